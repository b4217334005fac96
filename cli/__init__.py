"""The ``nagovori`` command line: the composition roots that wire settings, engines and stores."""
