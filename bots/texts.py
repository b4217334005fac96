"""Everything the bot says, in English and Russian.

``say(lang, key, **values)`` formats one text; unknown languages fall back to English. Texts are
plain (no parse mode) unless their key ends in ``_html``; values put into HTML texts are escaped by
the caller.
"""

from __future__ import annotations

LANGUAGES = ("en", "ru")

TEXTS: dict[str, dict[str, str]] = {
    "welcome_new": {
        "en": "Hi{name}! I turn voice messages into text and text into speech.\n\n"
        "You have {balance} free to start. Send me a voice note, an audio file or a round video — "
        "or switch /mode to get spoken replies to your text.\n\n/help lists everything I can do.",
        "ru": "Привет{name}! Я превращаю голосовые сообщения в текст, а текст — в речь.\n\n"
        "Для начала у вас {balance} бесплатно. Пришлите голосовое, аудиофайл или кружок — "
        "или включите /mode, чтобы получать ответ голосом.\n\n/help — всё, что я умею.",
    },
    "welcome_back": {
        "en": "Welcome back{name}! Your balance is {balance}. Send a voice note or see /help.",
        "ru": "С возвращением{name}! На балансе {balance}. Пришлите голосовое или загляните в /help.",
    },
    "help": {
        "en": "Send me a voice note, audio file, round video or video — I reply with the text.\n"
        "Send text in voice /mode — I reply with a voice note.\n\n"
        "/balance — minutes left and used\n/buy — buy minutes with Telegram Stars\n"
        "/lang — recognition and interface language\n/voice — the voice I speak with\n"
        "/mode — reply to text with voice or not\n/speak TEXT — say it now\n"
        "/history — recent transcriptions\n/apikey — a key for the REST API (same balance)\n"
        "/login — a link into the web dashboard (same balance)\n"
        "/paysupport — help with payments\n\n"
        "In groups: mention me or reply /transcribe to a voice note; admins can turn on /auto.",
        "ru": "Пришлите голосовое, аудиофайл, кружок или видео — я отвечу текстом.\n"
        "Пришлите текст в голосовом режиме (/mode) — я отвечу голосом.\n\n"
        "/balance — остаток и расход минут\n/buy — купить минуты за Telegram Stars\n"
        "/lang — язык распознавания и интерфейса\n/voice — мой голос\n"
        "/mode — отвечать на текст голосом или нет\n/speak ТЕКСТ — озвучить сразу\n"
        "/history — последние расшифровки\n/apikey — ключ для REST API (тот же баланс)\n"
        "/login — ссылка для входа в веб-кабинет (тот же баланс)\n"
        "/paysupport — помощь с оплатой\n\n"
        "В группах: упомяните меня или ответьте /transcribe на голосовое; админы могут включить /auto.",
    },
    "balance": {
        "en": "Balance: {left}\nUsed: {used} (voice to text {asr}, text to voice {tts})\n{held}Buy more: /buy",
        "ru": "Остаток: {left}\nИзрасходовано: {used} (распознавание {asr}, озвучка {tts})\n{held}Купить ещё: /buy",
    },
    "balance_held": {
        "en": "Reserved for running jobs: {held}\n",
        "ru": "Зарезервировано под задачи: {held}\n",
    },
    "buy_choose": {
        "en": "Choose a package (paid in Telegram Stars). Your balance: {balance}.",
        "ru": "Выберите пакет (оплата в Telegram Stars). Ваш баланс: {balance}.",
    },
    "package_button": {"en": "{minutes} min — {stars} ⭐", "ru": "{minutes} мин — {stars} ⭐"},
    "invoice_title": {"en": "{minutes} minutes", "ru": "{minutes} минут"},
    "invoice_description": {
        "en": "{minutes} minutes of speech recognition and synthesis for the bot and the API.",
        "ru": "{minutes} минут распознавания и озвучки речи — в боте и через API.",
    },
    "unknown_package": {
        "en": "There is no such package; see /buy.",
        "ru": "Такого пакета нет; посмотрите /buy.",
    },
    "precheckout_bad": {
        "en": "This invoice is no longer valid; please open /buy again.",
        "ru": "Этот счёт больше не действителен; откройте /buy ещё раз.",
    },
    "payment_thanks": {
        "en": "Thank you! {minutes} min added. Your balance: {balance}.",
        "ru": "Спасибо! Добавлено {minutes} мин. Ваш баланс: {balance}.",
    },
    "paysupport": {
        "en": "Payments are in Telegram Stars and credit minutes at once. If something went wrong "
        "with a payment, write here what happened and when; keep the receipt from Telegram.",
        "ru": "Оплата — в Telegram Stars, минуты зачисляются сразу. Если с оплатой что-то не так, "
        "напишите сюда, что и когда случилось; сохраните чек из Telegram.",
    },
    "lang_choose": {
        "en": "Recognition language: {asr}. Interface: {ui}.\n“Auto” detects the language of each recording.",
        "ru": "Язык распознавания: {asr}. Интерфейс: {ui}.\n«Авто» определяет язык каждой записи сам.",
    },
    "lang_set": {"en": "Recognition language: {asr}.", "ru": "Язык распознавания: {asr}."},
    "ui_set": {"en": "Interface language: English.", "ru": "Язык интерфейса: русский."},
    "auto": {"en": "Auto", "ru": "Авто"},
    "voice_choose": {
        "en": "Choose the voice I speak with (now: {voice}).",
        "ru": "Выберите мой голос (сейчас: {voice}).",
    },
    "voice_set": {"en": "Voice: {voice}.", "ru": "Голос: {voice}."},
    "mode_choose": {
        "en": "When you send text, I reply with: {mode}.",
        "ru": "На текст я отвечаю: {mode}.",
    },
    "mode_voice": {"en": "a voice note", "ru": "голосовым сообщением"},
    "mode_text": {"en": "a hint (voice replies off)", "ru": "подсказкой (голос выключен)"},
    "mode_button_voice": {"en": "🔊 Voice replies", "ru": "🔊 Отвечать голосом"},
    "mode_button_text": {"en": "✏️ No voice", "ru": "✏️ Без голоса"},
    "speak_usage": {
        "en": "Write the text after the command: /speak Hello there! — or reply /speak to a message.",
        "ru": "Напишите текст после команды: /speak Привет! — или ответьте /speak на сообщение.",
    },
    "text_hint": {
        "en": "Send me a voice note and I will write it down. To hear this text, use /speak or "
        "turn on voice replies in /mode.",
        "ru": "Пришлите голосовое — я его расшифрую. Чтобы услышать этот текст, используйте /speak "
        "или включите ответы голосом в /mode.",
    },
    "apikey_html": {
        "en": "Your API key (shown only once — store it safely):\n<code>{key}</code>\n\n"
        "It draws on the same balance. Docs: {url}/docs",
        "ru": "Ваш ключ API (показываю один раз — сохраните его):\n<code>{key}</code>\n\n"
        "Он расходует тот же баланс. Документация: {url}/docs",
    },
    # /login: a one-time link into the web dashboard
    "login_link": {
        "en": "Your sign-in link for the web dashboard — it works once, for {minutes} minutes; "
        "do not share it:\n{url}\n\nIt opens this same account and balance in the browser.",
        "ru": "Ваша ссылка для входа в веб-кабинет — действует один раз, {minutes} минут; "
        "никому её не пересылайте:\n{url}\n\nОна открывает в браузере эту же учётную запись и баланс.",
    },
    "login_limited": {
        "en": "You have asked for {limit} sign-in links in the last hour; try again in {minutes} min.",
        "ru": "За последний час вы запросили {limit} ссылок для входа; попробуйте через {minutes} мин.",
    },
    "history_empty": {"en": "No transcriptions yet.", "ru": "Расшифровок пока нет."},
    "history_header": {"en": "Recent transcriptions:", "ru": "Последние расшифровки:"},
    "status_received": {"en": "🎧 Got it, starting…", "ru": "🎧 Получил, начинаю…"},
    "status_queued": {
        "en": "⏳ In the queue, {ahead} ahead of you…",
        "ru": "⏳ В очереди, перед вами {ahead}…",
    },
    "status_progress": {"en": "✍️ Transcribing… {percent}%{eta}", "ru": "✍️ Расшифровываю… {percent}%{eta}"},
    "eta": {"en": " · about {eta} left", "ru": " · осталось около {eta}"},
    "transcript_empty": {
        "en": "I could not hear any speech in this recording.",
        "ru": "Не удалось расслышать речь в этой записи.",
    },
    "transcript_truncated": {
        "en": "Your minutes ran out part-way: the text above covers the first {seconds} s of the "
        "recording, and only those were charged. Top up with /buy and send it again for the rest.",
        "ru": "Минуты закончились на середине: текст выше — это первые {seconds} с записи, и списаны "
        "только они. Пополните баланс (/buy) и пришлите запись снова, чтобы получить остальное.",
    },
    "transcript_file": {
        "en": "The text is long, so here it is as a file. It begins:\n\n{preview}…",
        "ru": "Текст длинный, поэтому присылаю файлом. Начало:\n\n{preview}…",
    },
    "srt_button": {"en": "🎬 Subtitles (SRT)", "ru": "🎬 Субтитры (SRT)"},
    "srt_missing": {
        "en": "Subtitles are not available for this recording.",
        "ru": "Для этой записи субтитров нет.",
    },
    "buy_button": {"en": "⭐ Buy minutes", "ru": "⭐ Купить минуты"},
    "insufficient_minutes": {
        "en": "Not enough minutes: this needs {needed}, your balance is {balance}. Top up with /buy.",
        "ru": "Не хватает минут: нужно {needed}, на балансе {balance}. Пополнить: /buy.",
    },
    "speech_out_of_minutes": {
        "en": "Your minutes ran out before the whole text was spoken, so I sent nothing and charged "
        "nothing. Top up with /buy, or send a shorter text.",
        "ru": "Минуты закончились раньше, чем текст был озвучен целиком, поэтому я ничего не отправил "
        "и ничего не списал. Пополните баланс (/buy) или пришлите текст покороче.",
    },
    "out_of_minutes": {
        "en": "Your minutes ran out before the job could finish; nothing was charged. Top up with /buy.",
        "ru": "Минуты закончились раньше, чем задача была выполнена; ничего не списано. Пополнить: /buy.",
    },
    "audio_too_long": {
        "en": "This recording is too long ({duration}); the limit is {limit}. Please split it into parts.",
        "ru": "Запись слишком длинная ({duration}); предел — {limit}. Разделите её на части.",
    },
    "audio_too_short": {
        "en": "This recording is too short ({duration}); send at least {limit} of speech.",
        "ru": "Запись слишком короткая ({duration}); нужно хотя бы {limit} речи.",
    },
    "file_too_big": {
        "en": "This file is {size} MB, but bots can download at most {limit} MB from Telegram. "
        "Send it as a voice note or compressed audio (e.g. .ogg or .mp3), cut it into parts, "
        "or upload it through the REST API (/apikey).",
        "ru": "Файл весит {size} МБ, а боты могут скачать из Telegram не больше {limit} МБ. "
        "Пришлите его голосовым или сжатым аудио (.ogg, .mp3), разрежьте на части "
        "или загрузите через REST API (/apikey).",
    },
    "unsupported_file": {
        "en": "I can only transcribe audio and video. This file ({mime}) is neither.",
        "ru": "Я расшифровываю только аудио и видео. Этот файл ({mime}) — ни то, ни другое.",
    },
    "bad_audio": {
        "en": "I could not read the audio in this file: {detail}",
        "ru": "Не удалось прочитать звук из этого файла: {detail}",
    },
    "processing_failed": {
        "en": "Sorry, recognition failed this time. Your minutes were returned; please try again.",
        "ru": "Извините, распознать не получилось. Минуты возвращены; попробуйте ещё раз.",
    },
    "speech_failed": {
        "en": "Sorry, I could not synthesize the speech. Your minutes were returned.",
        "ru": "Извините, не получилось озвучить текст. Минуты возвращены.",
    },
    "too_many_jobs": {
        "en": "You already have {limit} recordings waiting; send more when some are done.",
        "ru": "У вас уже {limit} записей в очереди; присылайте ещё, когда часть будет готова.",
    },
    "text_too_long": {
        "en": "The text is too long for one voice message ({length} characters; the limit is {limit}).",
        "ru": "Текст слишком длинный для одного голосового ({length} символов; предел — {limit}).",
    },
    "text_empty": {"en": "There is nothing to say in this text.", "ru": "В этом тексте нечего озвучить."},
    "unavailable": {
        "en": "The service is busy or restarting; please try again in a minute.",
        "ru": "Сервис занят или перезапускается; попробуйте через минуту.",
    },
    "failed_generic": {
        "en": "Sorry, that did not work: {detail}",
        "ru": "Извините, не получилось: {detail}",
    },
    "oops": {
        "en": "Sorry, something went wrong on my side. Please try again.",
        "ru": "Извините, у меня что-то сломалось. Попробуйте ещё раз.",
    },
    "transcribe_usage": {
        "en": "Reply /transcribe to a voice note, audio or video message.",
        "ru": "Ответьте /transcribe на голосовое, аудио или видео.",
    },
    "group_hint": {
        "en": "Reply to a voice note with /transcribe (or mention me) and I will write it down.",
        "ru": "Ответьте на голосовое командой /transcribe (или упомяните меня) — я его расшифрую.",
    },
    "auto_on": {
        "en": "Automatic transcription is on: I will transcribe every voice note here; the minutes "
        "come from {name}'s balance. /auto again turns it off.",
        "ru": "Автоматическая расшифровка включена: я расшифрую каждое голосовое; минуты списываются "
        "с баланса {name}. Повторная /auto выключает.",
    },
    "auto_off": {
        "en": "Automatic transcription is off. Mention me or reply /transcribe to a voice note.",
        "ru": "Автоматическая расшифровка выключена. Упомяните меня или ответьте /transcribe на голосовое.",
    },
    "admins_only": {
        "en": "Only the chat's admins can change this.",
        "ru": "Это могут менять только админы чата.",
    },
    "private_only": {
        "en": "Please use this command in a private chat with me.",
        "ru": "Эта команда работает в личном чате со мной.",
    },
    "saved": {"en": "Saved.", "ru": "Сохранено."},
}


def say(lang: str | None, key: str, /, **values: object) -> str:
    """The text ``key`` in ``lang`` (English when missing), formatted with ``values``."""
    entry = TEXTS[key]
    template = entry.get(lang or "en") or entry["en"]
    return template.format(**values) if values else template


def duration(seconds: float, lang: str | None) -> str:
    """``75`` → ``1 min 15 s`` / ``1 мин 15 с``; whole minutes drop the seconds."""
    total = max(0, round(seconds))
    minutes, secs = divmod(total, 60)
    m, s = ("мин", "с") if lang == "ru" else ("min", "s")
    if minutes and secs:
        return f"{minutes} {m} {secs} {s}"
    if minutes:
        return f"{minutes} {m}"
    return f"{secs} {s}"
