"""Everything the dashboard says, in English and Russian, and how a page's language is chosen.

``say(lang, key, **values)`` formats one text (like ``bots/texts.py``); unknown languages and keys
missing in one language fall back to English. Templates call it as ``t("key")``; Jinja escapes the
result like any other value.
"""

from __future__ import annotations

LANGUAGES = ("en", "ru")
DEFAULT = "en"
LANGUAGE_NAMES = {"en": "English", "ru": "Русский"}

TEXTS: dict[str, dict[str, str]] = {
    # Layout
    "skip": {"en": "Skip to content", "ru": "Перейти к содержимому"},
    "nav_label": {"en": "Main", "ru": "Основное меню"},
    "nav_overview": {"en": "Overview", "ru": "Обзор"},
    "nav_keys": {"en": "API keys", "ru": "API-ключи"},
    "nav_buy": {"en": "Buy minutes", "ru": "Купить минуты"},
    "nav_api_docs": {"en": "API docs", "ru": "Документация API"},
    "language": {"en": "Language", "ru": "Язык"},
    "switch": {"en": "Switch", "ru": "Сменить"},
    "signed_in_as": {"en": "Signed in as {who}", "ru": "Вы вошли как {who}"},
    "sign_out": {"en": "Sign out", "ru": "Выйти"},
    # Sign-in and sign-up
    "signin_title": {"en": "Sign in", "ru": "Вход"},
    "signin_lead": {
        "en": "Sign in with the e-mail and password of your Nagovori account.",
        "ru": "Войдите с e-mail и паролем вашей учётной записи Nagovori.",
    },
    "email": {"en": "E-mail", "ru": "E-mail"},
    "password": {"en": "Password", "ru": "Пароль"},
    "password_hint": {
        "en": "At least {min} characters.",
        "ru": "Не короче {min} символов.",
    },
    "signin_button": {"en": "Sign in", "ru": "Войти"},
    "signin_no_account": {
        "en": "No account yet? Ask the operator to create one.",
        "ru": "Нет учётной записи? Попросите администратора создать её.",
    },
    "signup_offer": {"en": "No account yet? Create one", "ru": "Нет учётной записи? Создайте её"},
    "signup_title": {"en": "Create an account", "ru": "Создать учётную запись"},
    "signup_lead": {
        "en": "New accounts get {minutes} free minutes of transcription and speech.",
        "ru": "Новым учётным записям — {minutes} бесплатных минут распознавания и озвучки.",
    },
    "signup_button": {"en": "Create the account", "ru": "Создать"},
    "signup_have_account": {
        "en": "Already have an account? Sign in",
        "ru": "Уже есть учётная запись? Войдите",
    },
    "signed_out": {"en": "You are signed out.", "ru": "Вы вышли."},
    "signed_out_everywhere": {
        "en": "You are signed out on every device.",
        "ru": "Вы вышли на всех устройствах.",
    },
    # Overview
    "overview_title": {"en": "Overview", "ru": "Обзор"},
    "balance": {"en": "Balance", "ru": "Баланс"},
    "balance_held": {"en": "{held} reserved for running jobs", "ru": "{held} зарезервировано под задачи"},
    "buy_more": {"en": "Buy minutes", "ru": "Купить минуты"},
    "used_30d": {"en": "Used in the last 30 days", "ru": "Израсходовано за 30 дней"},
    "usage_title": {"en": "Usage, last 30 days", "ru": "Расход за 30 дней"},
    "usage_chart_desc": {
        "en": "Minutes used per day, stacked by channel and kind of work.",
        "ru": "Минуты по дням, по каналам и видам работы.",
    },
    "usage_empty": {"en": "Nothing used in the last 30 days.", "ru": "За последние 30 дней расхода нет."},
    "usage_as_table": {"en": "Show as a table", "ru": "Показать таблицей"},
    "day": {"en": "Day", "ru": "День"},
    "total": {"en": "Total", "ru": "Всего"},
    "channel_telegram": {"en": "Bot", "ru": "Бот"},
    "channel_api": {"en": "API", "ru": "API"},
    "channel_web": {"en": "Web", "ru": "Веб"},
    "channel_cli": {"en": "CLI", "ru": "CLI"},
    "channel_other": {"en": "Other", "ru": "Другое"},
    "kind_asr": {"en": "transcription", "ru": "распознавание"},
    "kind_tts": {"en": "speech", "ru": "озвучка"},
    "kind_other": {"en": "other", "ru": "другое"},
    "recent_jobs": {"en": "Recent jobs", "ru": "Последние задачи"},
    "no_jobs": {
        "en": "No jobs yet. Send a voice note to the bot or call the API with a key.",
        "ru": "Задач пока нет. Отправьте голосовое боту или вызовите API с ключом.",
    },
    "col_when": {"en": "Created", "ru": "Создана"},
    "col_kind": {"en": "Kind", "ru": "Вид"},
    "col_status": {"en": "Status", "ru": "Статус"},
    "col_billed": {"en": "Billed", "ru": "Списано"},
    "col_text": {"en": "Text", "ru": "Текст"},
    "status_queued": {"en": "queued", "ru": "в очереди"},
    "status_processing": {"en": "processing", "ru": "в работе"},
    "status_completed": {"en": "completed", "ru": "готово"},
    "status_failed": {"en": "failed", "ru": "ошибка"},
    "status_cancelled": {"en": "cancelled", "ru": "отменено"},
    "security": {"en": "Security", "ru": "Безопасность"},
    "sessions_count": {
        "en": "Browsers signed in to this account: {count}.",
        "ru": "Браузеров, в которых выполнен вход: {count}.",
    },
    "sign_out_everywhere": {"en": "Sign out everywhere", "ru": "Выйти на всех устройствах"},
    # API keys
    "keys_title": {"en": "API keys", "ru": "API-ключи"},
    "keys_lead": {
        "en": "Keys let programs use the REST API with your balance. Send one as "
        "'Authorization: Bearer nag_…'. A key is shown only once, when it is created.",
        "ru": "Ключи дают программам доступ к REST API с вашим балансом. Передавайте ключ в "
        "заголовке 'Authorization: Bearer nag_…'. Ключ показывается один раз — при создании.",
    },
    "key_name": {"en": "Name", "ru": "Название"},
    "key_name_hint": {
        "en": "Where you will use it, e.g. “laptop” or “CI”.",
        "ru": "Где будете использовать, например «ноутбук» или «CI».",
    },
    "key_create": {"en": "Create a key", "ru": "Создать ключ"},
    "key_created": {
        "en": "Your new key “{name}”. Copy it now: it will not be shown again.",
        "ru": "Ваш новый ключ «{name}». Скопируйте его сейчас: больше он показан не будет.",
    },
    "key_value": {"en": "New API key", "ru": "Новый API-ключ"},
    "copy": {"en": "Copy", "ru": "Копировать"},
    "copied": {"en": "Copied", "ru": "Скопировано"},
    "copy_failed": {
        "en": "Could not copy; select the key and copy it by hand.",
        "ru": "Не удалось скопировать; выделите ключ и скопируйте вручную.",
    },
    "keys_none": {"en": "No keys yet.", "ru": "Ключей пока нет."},
    "col_name": {"en": "Name", "ru": "Название"},
    "col_key": {"en": "Key", "ru": "Ключ"},
    "col_created": {"en": "Created", "ru": "Создан"},
    "col_last_used": {"en": "Last used", "ru": "Использован"},
    "col_state": {"en": "State", "ru": "Состояние"},
    "never": {"en": "never", "ru": "никогда"},
    "key_active": {"en": "active", "ru": "действует"},
    "key_revoked": {"en": "revoked {when}", "ru": "отозван {when}"},
    "revoke": {"en": "Revoke", "ru": "Отозвать"},
    "revoke_label": {"en": "Revoke the key “{name}”", "ru": "Отозвать ключ «{name}»"},
    "revoke_confirm": {
        "en": "Revoke this key? Programs using it stop working at once.",
        "ru": "Отозвать ключ? Программы, которые им пользуются, сразу перестанут работать.",
    },
    "key_revoked_done": {
        "en": "The key is revoked: requests with it are refused from now on.",
        "ru": "Ключ отозван: запросы с ним больше не принимаются.",
    },
    "jwt_hint": {
        "en": "Scripts can also exchange your e-mail and password for a one-hour token: POST /v1/auth/token.",
        "ru": "Скрипты могут обменять e-mail и пароль на токен на час: POST /v1/auth/token.",
    },
    # Buy minutes
    "buy_title": {"en": "Buy minutes", "ru": "Купить минуты"},
    "buy_lead": {
        "en": "Minutes are shared by the Telegram bot, the API and this dashboard. Your balance: {balance}.",
        "ru": "Минуты общие для Telegram-бота, API и этого кабинета. Ваш баланс: {balance}.",
    },
    "package_minutes": {"en": "{minutes} minutes", "ru": "{minutes} минут"},
    "stars": {"en": "Telegram Stars", "ru": "Telegram Stars"},
    "package_per_minute": {"en": "{price} Stars a minute", "ru": "{price} Stars за минуту"},
    "how_to_pay": {"en": "How to pay", "ru": "Как оплатить"},
    "pay_steps_bot": {
        "en": "Payment is in Telegram Stars through our bot: open the bot, send /buy and choose a package.",
        "ru": "Оплата — в Telegram Stars через нашего бота: откройте бота, отправьте /buy и выберите пакет.",
    },
    "pay_open_bot": {"en": "Open @{bot} in Telegram", "ru": "Открыть @{bot} в Telegram"},
    "pay_same_account": {
        "en": "Minutes bought in the bot go to the account of the Telegram user who pays. This web "
        "account is that account only if the operator created it with your Telegram id.",
        "ru": "Минуты, купленные в боте, зачисляются на учётную запись того пользователя Telegram, "
        "который платит. Эта веб-учётная запись — та же самая, только если администратор создал её "
        "с вашим Telegram id.",
    },
    "pay_linked": {
        "en": "This account is linked to your Telegram account: minutes bought in the bot appear here.",
        "ru": "Эта учётная запись связана с вашим Telegram: минуты, купленные в боте, появятся здесь.",
    },
    # Sign-in link from the Telegram bot (/login)
    "tg_signin_title": {"en": "Sign in with Telegram", "ru": "Вход через Telegram"},
    "tg_signin_lead": {
        "en": "This link from our Telegram bot signs you in to the same account and balance you use in the bot.",
        "ru": "Эта ссылка от нашего Telegram-бота открывает ту же учётную запись и баланс, что и в боте.",
    },
    "tg_signin_button": {"en": "Sign in", "ru": "Войти"},
    "tg_signin_once": {
        "en": "The link works once and for {minutes} minutes. Do not share it.",
        "ru": "Ссылка действует один раз и {minutes} минут. Никому её не пересылайте.",
    },
    "tg_signin_switch": {
        "en": "You are signed in as {who} now; signing in with this link switches to the bot's account.",
        "ru": "Сейчас вы вошли как {who}; вход по этой ссылке переключит на учётную запись из бота.",
    },
    "tg_signin_unknown": {
        "en": "This sign-in link is not valid. Check that it was copied whole.",
        "ru": "Эта ссылка для входа недействительна. Проверьте, что она скопирована целиком.",
    },
    "tg_signin_used": {
        "en": "This sign-in link has been used already; each link works only once.",
        "ru": "По этой ссылке уже входили; каждая ссылка действует только один раз.",
    },
    "tg_signin_expired": {
        "en": "This sign-in link has expired; links work for {minutes} minutes.",
        "ru": "Срок действия ссылки истёк; ссылки действуют {minutes} минут.",
    },
    "tg_signin_new_link": {
        "en": "For a new link, send /login to",
        "ru": "Чтобы получить новую ссылку, отправьте /login боту",
    },
    "tg_signin_new_link_bot": {
        "en": "For a new link, send /login to our Telegram bot.",
        "ru": "Чтобы получить новую ссылку, отправьте /login нашему Telegram-боту.",
    },
    "tg_signin_with_password": {
        "en": "Sign in with e-mail and password instead",
        "ru": "Войти по e-mail и паролю",
    },
    # Speak (web/pages/speak.py)
    "nav_speak": {"en": "Speak", "ru": "Озвучить"},
    "speak_title": {"en": "Speak", "ru": "Озвучить текст"},
    "speak_lead": {
        "en": "Type or paste a text, choose a voice, and listen while it is made. "
        "It is billed by the seconds of audio produced.",
        "ru": "Введите или вставьте текст, выберите голос и слушайте, пока он озвучивается. "
        "Оплата — по секундам получившегося звука.",
    },
    "speak_text": {"en": "Text", "ru": "Текст"},
    "speak_counter": {"en": "{count} of {limit} characters", "ru": "{count} из {limit} символов"},
    "speak_voice": {"en": "Voice", "ru": "Голос"},
    "speak_preview": {"en": "Listen", "ru": "Прослушать"},
    "speak_preview_label": {"en": "Listen to {name}", "ru": "Прослушать голос {name}"},
    "speak_preview_note": {
        "en": "Voice samples are free.",
        "ru": "Образцы голосов бесплатны.",
    },
    "speak_speed": {"en": "Speed", "ru": "Скорость"},
    "speak_format": {"en": "Format", "ru": "Формат"},
    "speak_language": {"en": "Language of the text", "ru": "Язык текста"},
    "speak_language_auto": {"en": "Detect", "ru": "Определить"},
    "speak_language_en": {"en": "English", "ru": "Английский"},
    "speak_language_ru": {"en": "Russian", "ru": "Русский"},
    "speak_button": {"en": "Speak", "ru": "Озвучить"},
    "speak_stop": {"en": "Stop", "ru": "Остановить"},
    "speak_balance": {"en": "Balance: {balance}", "ru": "Баланс: {balance}"},
    "speak_result": {"en": "Result", "ru": "Результат"},
    "speak_download": {"en": "Download", "ru": "Скачать"},
    "speak_working": {"en": "Speaking…", "ru": "Озвучиваем…"},
    "speak_stopped": {"en": "Stopped.", "ru": "Остановлено."},
    "speak_billed": {
        "en": "Done. Billed {billed}; your balance is {balance}.",
        "ru": "Готово. Списано {billed}; на балансе {balance}.",
    },
    "speak_billed_truncated": {
        "en": "Your balance ran out: the audio stops there. Billed {billed}; your balance is {balance}.",
        "ru": "Минуты закончились — звук обрывается на этом месте. Списано {billed}; на балансе {balance}.",
    },
    "speak_too_long": {
        "en": "The text is {length} characters long; the limit is {limit}. Shorten it by {over} "
        "characters or split it in two — your text is still here.",
        "ru": "В тексте {length} символов, а можно не больше {limit}. Сократите его на {over} "
        "или разделите на две части — ваш текст никуда не делся.",
    },
    "speak_empty": {"en": "Type a text to speak first.", "ru": "Сначала введите текст."},
    "speak_bad_speed": {
        "en": "The speed must be between {min} and {max}.",
        "ru": "Скорость должна быть от {min} до {max}.",
    },
    "speak_bad_voice": {"en": "Choose one of the voices.", "ru": "Выберите один из голосов."},
    "speak_bad_format": {"en": "Choose one of the formats.", "ru": "Выберите один из форматов."},
    "speak_busy": {
        "en": "Too many of your jobs are running; try again when one has finished.",
        "ru": "У вас выполняется слишком много заданий; попробуйте, когда одно завершится.",
    },
    "speak_no_minutes": {
        "en": "Not enough minutes for this text: your balance is {balance}.",
        "ru": "На этот текст не хватает минут: на балансе {balance}.",
    },
    "speak_failed": {
        "en": "The speech could not be made; nothing was charged for the part not heard. Try again.",
        "ru": "Не удалось озвучить текст; за неозвученную часть ничего не списано. Попробуйте ещё раз.",
    },
    "speak_expired": {
        "en": "This page has expired; reload it (your text will need to be pasted again).",
        "ru": "Страница устарела; обновите её (текст придётся вставить заново).",
    },
    "speak_gender_female": {"en": "female", "ru": "женский"},
    "speak_gender_male": {"en": "male", "ru": "мужской"},
    "speak_gender_neutral": {"en": "neutral", "ru": "нейтральный"},
    "speak_voice_alloy": {
        "en": "Balanced and even; the default voice.",
        "ru": "Ровный и спокойный; голос по умолчанию.",
    },
    "speak_voice_ash": {"en": "Clear, confident male voice.", "ru": "Чёткий уверенный мужской голос."},
    "speak_voice_nova": {"en": "Bright, friendly female voice.", "ru": "Яркий дружелюбный женский голос."},
    "speak_voice_onyx": {"en": "Deep, low male voice.", "ru": "Глубокий низкий мужской голос."},
    "speak_voice_echo": {"en": "Soft, warm male voice.", "ru": "Мягкий тёплый мужской голос."},
    "speak_voice_shimmer": {"en": "Gentle, calm female voice.", "ru": "Нежный спокойный женский голос."},
    "speak_voice_fable": {"en": "Expressive storyteller.", "ru": "Выразительный рассказчик."},
    # Transcribe (web/pages/transcribe.py)
    "nav_transcribe": {"en": "Transcribe", "ru": "Распознать"},
    "tx_title": {"en": "Transcribe", "ru": "Распознавание речи"},
    "tx_lead": {
        "en": "Upload a recording, or dictate into the microphone, and watch its text appear. "
        "The minutes are charged for the audio's length.",
        "ru": "Загрузите запись или диктуйте в микрофон и смотрите, как появляется текст. "
        "Списываются минуты по длине записи.",
    },
    "tx_new": {"en": "New transcription", "ru": "Новое распознавание"},
    "tx_file_label": {"en": "Audio or video file", "ru": "Аудио- или видеофайл"},
    "tx_file_hint": {
        "en": "Choose a file or drag it here: MP3, WAV, OGG, FLAC, M4A, WebM…",
        "ru": "Выберите файл или перетащите его сюда: MP3, WAV, OGG, FLAC, M4A, WebM…",
    },
    "tx_language": {"en": "Spoken language", "ru": "Язык записи"},
    "tx_language_auto": {"en": "Detect automatically", "ru": "Определить автоматически"},
    "tx_preset": {"en": "Style", "ru": "Стиль"},
    "tx_preset_default": {"en": "Standard", "ru": "Обычный"},
    "tx_preset_verbatim": {"en": "Verbatim", "ru": "Дословно"},
    "tx_preset_remove_fillers": {"en": "Without filler words", "ru": "Без слов-паразитов"},
    "tx_preset_concise": {"en": "Concise", "ru": "Кратко"},
    "tx_model": {"en": "Model", "ru": "Модель"},
    "tx_model_default": {"en": "The server's default", "ru": "По умолчанию"},
    "tx_default": {"en": "default", "ru": "по умолчанию"},
    "tx_start": {"en": "Transcribe", "ru": "Распознать"},
    "tx_retry": {"en": "Try again", "ru": "Повторить"},
    "tx_upload_progress": {"en": "Upload", "ru": "Загрузка"},
    "tx_result": {"en": "Transcript", "ru": "Текст"},
    "tx_job_progress": {"en": "Transcription progress", "ru": "Ход распознавания"},
    "tx_transcript": {"en": "Transcript", "ru": "Текст"},
    "tx_copy": {"en": "Copy the text", "ru": "Копировать текст"},
    "tx_download": {"en": "Download", "ru": "Скачать"},
    "tx_segments": {"en": "Segments", "ru": "Фрагменты"},
    "tx_segments_hint": {
        "en": "Choose a segment to hear that part of the recording.",
        "ru": "Выберите фрагмент, чтобы прослушать эту часть записи.",
    },
    "tx_no_audio_support": {
        "en": "This browser cannot play audio.",
        "ru": "Этот браузер не умеет воспроизводить звук.",
    },
    "tx_no_file": {"en": "Choose a file first.", "ru": "Сначала выберите файл."},
    "tx_upload_failed": {
        "en": "The upload failed ({reason}). Your choices are kept: try again.",
        "ru": "Загрузка не удалась ({reason}). Выбранное сохранено: попробуйте ещё раз.",
    },
    "tx_network_failed": {
        "en": "The connection failed. Check the network and try again.",
        "ru": "Соединение прервалось. Проверьте сеть и попробуйте ещё раз.",
    },
    "tx_starting": {"en": "Starting…", "ru": "Запуск…"},
    "tx_queued": {"en": "In the queue: position {position}.", "ru": "В очереди: место {position}."},
    "tx_queued_eta": {
        "en": "In the queue: position {position}, ready in {eta}.",
        "ru": "В очереди: место {position}, будет готово через {eta}.",
    },
    "tx_processing": {"en": "Transcribing: {percent}%.", "ru": "Распознаётся: {percent}%."},
    "tx_processing_eta": {
        "en": "Transcribing: {percent}%, ready in {eta}.",
        "ru": "Распознаётся: {percent}%, будет готово через {eta}.",
    },
    "tx_eta_seconds": {"en": "about {s} s", "ru": "около {s} с"},
    "tx_eta_minutes": {"en": "about {m} min", "ru": "около {m} мин"},
    "tx_completed": {"en": "Done.", "ru": "Готово."},
    "tx_billed": {"en": "Charged: {billed}.", "ru": "Списано: {billed}."},
    "tx_failed": {"en": "The transcription failed.", "ru": "Распознавание не удалось."},
    "tx_failed_reason": {
        "en": "The transcription failed: {reason} The minutes were not charged.",
        "ru": "Распознавание не удалось: {reason} Минуты не списаны.",
    },
    "tx_cancelled": {"en": "The transcription was cancelled.", "ru": "Распознавание отменено."},
    "tx_connection_lost": {
        "en": "Lost the connection to the server; reload the page to see the result.",
        "ru": "Связь с сервером потеряна; обновите страницу, чтобы увидеть результат.",
    },
    "tx_no_speech": {"en": "No speech was recognized.", "ru": "Речь не распознана."},
    "tx_balance": {"en": "Your balance: {balance}.", "ru": "Ваш баланс: {balance}."},
    "tx_signed_out": {
        "en": "You are signed out; sign in again.",
        "ru": "Вы вышли из учётной записи; войдите снова.",
    },
    "tx_quota": {
        "en": "Your storage is full; delete old transcriptions in History and try again.",
        "ru": "Хранилище заполнено; удалите старые задачи в «Истории» и попробуйте снова.",
    },
    "tx_too_large": {
        "en": "The file is too large: the limit is {mb} MB.",
        "ru": "Файл слишком большой: предел — {mb} МБ.",
    },
    "tx_bad_audio": {
        "en": "This file cannot be transcribed: {reason}",
        "ru": "Этот файл нельзя распознать: {reason}",
    },
    "tx_too_many_jobs": {
        "en": "Too many of your jobs are waiting; try again when some have finished.",
        "ru": "Слишком много ваших задач в очереди; попробуйте, когда часть завершится.",
    },
    # Dictate (the Transcribe page's microphone; web/static/dictate.js)
    "dx_title": {"en": "Dictate", "ru": "Диктовка"},
    "dx_lead": {
        "en": "Speak into the microphone and the text appears as you talk, in the language and "
        "model chosen above. Charged by the seconds recorded; the text is kept in History.",
        "ru": "Говорите в микрофон — текст появляется по ходу речи, на языке и моделью, выбранными "
        "выше. Списываются секунды записи; текст сохраняется в «Истории».",
    },
    "dx_start": {"en": "Dictate", "ru": "Диктовать"},
    "dx_stop": {"en": "Stop", "ru": "Остановить"},
    "dx_text": {"en": "Dictated text", "ru": "Надиктованный текст"},
    "dx_unsupported": {
        "en": "This browser cannot record from a microphone here. Try a current Chrome, Edge, "
        "Firefox or Safari.",
        "ru": "Этот браузер не умеет записывать с микрофона. Попробуйте свежий Chrome, Edge, Firefox "
        "или Safari.",
    },
    "dx_insecure": {
        "en": "Browsers allow the microphone only on secure pages: open this site over https.",
        "ru": "Браузеры дают доступ к микрофону только на защищённых страницах: откройте сайт по https.",
    },
    "dx_denied": {
        "en": "The browser did not allow the microphone. Allow it for this site (the icon in the "
        "address bar) and press Dictate again.",
        "ru": "Браузер не разрешил доступ к микрофону. Разрешите его для этого сайта (значок в "
        "адресной строке) и снова нажмите «Диктовать».",
    },
    "dx_no_device": {
        "en": "No microphone was found. Connect one and press Dictate again.",
        "ru": "Микрофон не найден. Подключите его и снова нажмите «Диктовать».",
    },
    "dx_mic_failed": {
        "en": "The microphone could not be started ({reason}).",
        "ru": "Не удалось включить микрофон ({reason}).",
    },
    "dx_asking": {"en": "Asking for the microphone…", "ru": "Запрашиваем микрофон…"},
    "dx_connecting": {"en": "Connecting…", "ru": "Подключение…"},
    "dx_listening": {
        "en": "Listening: speak now. Press Stop when you are done.",
        "ru": "Слушаем: говорите. Когда закончите, нажмите «Остановить».",
    },
    "dx_finishing": {"en": "Finishing the text…", "ru": "Завершаем текст…"},
    "dx_finished": {"en": "Done.", "ru": "Готово."},
    "dx_nothing_heard": {"en": "No speech was recognized.", "ru": "Речь не распознана."},
    "dx_billed": {"en": "Charged: {billed}.", "ru": "Списано: {billed}."},
    "dx_open_history": {"en": "Open it in History", "ru": "Открыть в «Истории»"},
    "dx_failed": {
        "en": "Dictation stopped: {reason}",
        "ru": "Диктовка остановлена: {reason}",
    },
    "dx_idle": {
        "en": "Dictation stopped: no sound came from the microphone for a while.",
        "ru": "Диктовка остановлена: с микрофона долго не было звука.",
    },
    "dx_too_long": {
        "en": "Dictation stopped: a session lasts at most an hour. Press Dictate to go on.",
        "ru": "Диктовка остановлена: сеанс длится не больше часа. Нажмите «Диктовать», чтобы продолжить.",
    },
    "dx_connection_lost": {
        "en": "The connection to the server was lost; what was heard so far is kept in History.",
        "ru": "Связь с сервером потеряна; распознанное до этого сохранено в «Истории».",
    },
    # Errors
    "error_title": {"en": "Something went wrong", "ru": "Что-то пошло не так"},
    "error_back": {"en": "Back to the overview", "ru": "Вернуться к обзору"},
    "error_not_found": {"en": "There is no such page.", "ru": "Такой страницы нет."},
    "error_csrf": {
        "en": "The form has expired or did not come from this site. Reload the page and try again.",
        "ru": "Форма устарела или отправлена не с этого сайта. Обновите страницу и попробуйте снова.",
    },
    "error_invalid_credentials": {"en": "Wrong e-mail or password.", "ru": "Неверный e-mail или пароль."},
    "error_signin_locked": {
        "en": "Too many failed sign-ins. Try again in {minutes} min.",
        "ru": "Слишком много неудачных попыток входа. Попробуйте снова через {minutes} мин.",
    },
    "error_signup_closed": {
        "en": "Sign-up is closed; ask the operator for an account.",
        "ru": "Регистрация закрыта; попросите администратора создать учётную запись.",
    },
    "error_email": {
        "en": "Enter an e-mail address like name@example.com.",
        "ru": "Введите адрес вида name@example.com.",
    },
    "error_password_short": {
        "en": "A password has at least {min} characters.",
        "ru": "Пароль должен быть не короче {min} символов.",
    },
    "error_email_taken": {
        "en": "An account with this e-mail already exists; sign in instead.",
        "ru": "Учётная запись с этим e-mail уже есть; войдите.",
    },
    "error_key_name": {
        "en": "A key name has 1 to 100 characters.",
        "ru": "Название ключа — от 1 до 100 символов.",
    },
    "error_not_found_key": {"en": "No such key.", "ru": "Такого ключа нет."},
    "error_no_minutes": {
        "en": "Not enough minutes left for this. Buy more on the “Buy minutes” page.",
        "ru": "На это не хватает минут. Купите ещё на странице «Купить минуты».",
    },
    "error_unavailable": {
        "en": "The service is temporarily unavailable; try again in a moment.",
        "ru": "Сервис временно недоступен; попробуйте через минуту.",
    },
    "error_internal": {
        "en": "Something went wrong on our side. Try again; if it keeps happening, tell the operator.",
        "ru": "На нашей стороне что-то сломалось. Попробуйте ещё раз; если повторится — сообщите администратору.",
    },
    # Admin (administrators only)
    "nav_admin": {"en": "Admin", "ru": "Администрирование"},
    "admin_title": {"en": "Admin", "ru": "Администрирование"},
    "admin_lead": {
        "en": "Accounts and their balances, minutes granted by hand, new accounts, and jobs that failed.",
        "ru": "Учётные записи и их балансы, начисление минут вручную, новые учётные записи и задачи с ошибками.",
    },
    "admin_forbidden": {
        "en": "This page is for administrators only.",
        "ru": "Эта страница только для администраторов.",
    },
    "admin_accounts": {"en": "Accounts", "ru": "Учётные записи"},
    "admin_search": {"en": "Find an account", "ru": "Найти учётную запись"},
    "admin_search_hint": {
        "en": "Part of an e-mail, a name, an account id, a @telegram_username or a Telegram id.",
        "ru": "Часть e-mail, имени или id учётной записи, @имя_в_telegram или Telegram id.",
    },
    "admin_search_button": {"en": "Search", "ru": "Искать"},
    "admin_found": {
        "en": "Accounts matching “{query}”: {count}.",
        "ru": "Учётных записей по запросу «{query}»: {count}.",
    },
    "admin_newest": {"en": "The newest {count} accounts.", "ru": "Последние {count} учётных записей."},
    "admin_more": {
        "en": "Only the first {limit} are shown: search to find others.",
        "ru": "Показаны только первые {limit}: воспользуйтесь поиском, чтобы найти остальные.",
    },
    "admin_none_found": {
        "en": "No account matches “{query}”.",
        "ru": "По запросу «{query}» учётных записей нет.",
    },
    "admin_no_accounts": {"en": "No accounts yet.", "ru": "Учётных записей пока нет."},
    "admin_col_account": {"en": "Account", "ru": "Учётная запись"},
    "admin_no_email": {"en": "(no e-mail)", "ru": "(без e-mail)"},
    "admin_badge": {"en": "admin", "ru": "админ"},
    "admin_manage": {"en": "Open", "ru": "Открыть"},
    "admin_manage_label": {"en": "Open the account {who}", "ru": "Открыть учётную запись {who}"},
    "admin_create": {"en": "Create an account", "ru": "Создать учётную запись"},
    "admin_create_hint": {
        "en": "The person signs in with this e-mail and password; tell them the password in a safe way.",
        "ru": "Человек входит с этим e-mail и паролем; передайте ему пароль надёжным способом.",
    },
    "admin_initial_password": {"en": "Initial password", "ru": "Начальный пароль"},
    "admin_initial_password_hint": {
        "en": "At least 8 characters; they can ask the operator to change it.",
        "ru": "Не короче 8 символов; сменить его можно через администратора.",
    },
    "admin_starting_minutes": {"en": "Starting minutes", "ru": "Стартовые минуты"},
    "admin_starting_minutes_hint": {
        "en": "0 to {max}; recorded as a grant by you.",
        "ru": "От 0 до {max}; записываются как ваше начисление.",
    },
    "admin_create_button": {"en": "Create the account", "ru": "Создать"},
    "admin_created_done": {
        "en": "The account is created; it can sign in now.",
        "ru": "Учётная запись создана; с ней уже можно войти.",
    },
    "admin_failed": {"en": "Recent failed jobs", "ru": "Последние задачи с ошибками"},
    "admin_failed_none": {"en": "No job has failed.", "ru": "Задач с ошибками нет."},
    "admin_col_error": {"en": "Error", "ru": "Ошибка"},
    "admin_col_attempts": {"en": "Attempts", "ru": "Попыток"},
    "admin_account_title": {"en": "Account {who}", "ru": "Учётная запись {who}"},
    "admin_back": {"en": "← All accounts", "ru": "← Все учётные записи"},
    "admin_about": {"en": "Account", "ru": "Учётная запись"},
    "admin_id": {"en": "Id", "ru": "Id"},
    "admin_grant": {"en": "Grant minutes", "ru": "Начислить минуты"},
    "admin_minutes": {"en": "Minutes", "ru": "Минуты"},
    "admin_minutes_hint": {
        "en": "For example 5 or 2.5; at most {max}.",
        "ru": "Например 5 или 2,5; не больше {max}.",
    },
    "admin_reason": {"en": "Reason", "ru": "Причина"},
    "admin_reason_hint": {
        "en": "Kept in the ledger with your account id, e.g. “refund for a failed upload”.",
        "ru": "Сохраняется в журнале вместе с id вашей учётной записи, например «возврат за сбой загрузки».",
    },
    "admin_grant_next": {"en": "Review the grant", "ru": "Проверить начисление"},
    "admin_confirm_title": {"en": "Confirm the grant", "ru": "Подтвердите начисление"},
    "admin_confirm_question": {
        "en": "Grant {amount} to {who}?",
        "ru": "Начислить {amount} пользователю {who}?",
    },
    "admin_balance_now": {"en": "Balance now", "ru": "Баланс сейчас"},
    "admin_balance_after": {"en": "Balance after", "ru": "Баланс после"},
    "admin_confirm_button": {"en": "Grant {amount}", "ru": "Начислить {amount}"},
    "admin_cancel": {"en": "Cancel", "ru": "Отмена"},
    "admin_granted_done": {
        "en": "The minutes are granted and recorded with the reason.",
        "ru": "Минуты начислены и записаны в журнал с причиной.",
    },
    "admin_repeated": {
        "en": "This grant had already been made; nothing more was added.",
        "ru": "Это начисление уже было сделано; больше ничего не добавлено.",
    },
    "admin_grants": {"en": "Latest grants", "ru": "Последние начисления"},
    "admin_grants_none": {"en": "No grants yet.", "ru": "Начислений пока нет."},
    "admin_col_source": {"en": "Source", "ru": "Источник"},
    "admin_error_minutes": {
        "en": "Enter a number of minutes greater than zero and at most {max}.",
        "ru": "Введите число минут больше нуля и не больше {max}.",
    },
    "admin_error_starting_minutes": {
        "en": "Enter a number of starting minutes from 0 to {max}.",
        "ru": "Введите число стартовых минут от 0 до {max}.",
    },
    "admin_error_taken": {
        "en": "An account with this e-mail already exists.",
        "ru": "Учётная запись с этим e-mail уже есть.",
    },
    "admin_error_form_used": {
        "en": "This form was already used for another grant; nothing was added. Start the grant again.",
        "ru": "Эта форма уже использована для другого начисления; ничего не добавлено. Начните заново.",
    },
    "admin_error_form_incomplete": {
        "en": "The form is incomplete; start the grant again.",
        "ru": "Форма неполная; начните начисление заново.",
    },
    "admin_error_reason": {
        "en": "Say why, in 1 to {chars} characters.",
        "ru": "Укажите причину: от 1 до {chars} символов.",
    },
    # History (web/pages/history.py)
    "nav_history": {"en": "History", "ru": "История"},
    "history_title": {"en": "History", "ru": "История"},
    "history_filters": {"en": "Search and filters", "ru": "Поиск и фильтры"},
    "history_search": {"en": "Search the texts", "ru": "Поиск по текстам"},
    "history_search_hint": {
        "en": "Words from a transcript, a speech text or a file name.",
        "ru": "Слова из расшифровки, текста для озвучки или имени файла.",
    },
    "history_any": {"en": "Any", "ru": "Любой"},
    "history_from": {"en": "From (UTC)", "ru": "С (UTC)"},
    "history_to": {"en": "To (UTC)", "ru": "По (UTC)"},
    "history_page_size": {"en": "Per page", "ru": "На странице"},
    "history_apply": {"en": "Show", "ru": "Показать"},
    "history_clear": {"en": "Clear filters", "ru": "Сбросить фильтры"},
    "history_count": {"en": "Jobs: {count}", "ru": "Задач: {count}"},
    "history_found": {"en": "Found: {count}", "ru": "Найдено: {count}"},
    "history_none_found": {
        "en": "Nothing matches these filters.",
        "ru": "Под эти условия ничего не подходит.",
    },
    "history_bad_filter": {
        "en": "A filter in the address was not understood and is left out.",
        "ru": "Фильтр в адресе не распознан и не применён.",
    },
    "history_bad_date": {
        "en": "Dates are written as YYYY-MM-DD; the one given is left out.",
        "ru": "Даты пишутся как ГГГГ-ММ-ДД; указанная дата не применена.",
    },
    "history_actions": {"en": "Actions", "ru": "Действия"},
    "history_untitled": {"en": "(no text yet)", "ru": "(текста пока нет)"},
    "history_held": {"en": "{held} reserved", "ru": "{held} в резерве"},
    "history_pages": {"en": "Pages", "ru": "Страницы"},
    "history_page_n": {"en": "Page {n}", "ru": "Страница {n}"},
    "history_newer": {"en": "← Newer", "ru": "← Новее"},
    "history_older": {"en": "Older →", "ru": "Старше →"},
    "history_cancel": {"en": "Cancel", "ru": "Отменить"},
    "history_cancel_label": {"en": "Cancel the job “{what}”", "ru": "Отменить задачу «{what}»"},
    "history_cancel_confirm": {
        "en": "Cancel this job? The reserved minutes go back to your balance.",
        "ru": "Отменить задачу? Зарезервированные минуты вернутся на баланс.",
    },
    "history_cancelled": {
        "en": "The job is cancelled; nothing was charged for it.",
        "ru": "Задача отменена; за неё ничего не списано.",
    },
    "history_delete": {"en": "Delete", "ru": "Удалить"},
    "history_delete_label": {"en": "Delete the job “{what}”", "ru": "Удалить задачу «{what}»"},
    "history_delete_confirm": {
        "en": "Delete this job from your history? Its text and downloads will be gone.",
        "ru": "Удалить задачу из истории? Её текст и файлы станут недоступны.",
    },
    "history_deleted": {"en": "The job is deleted.", "ru": "Задача удалена."},
    "history_running": {
        "en": "The job is still running: cancel it first.",
        "ru": "Задача ещё выполняется: сначала отмените её.",
    },
    "history_finished": {
        "en": "The job has already finished and cannot be cancelled.",
        "ru": "Задача уже завершена, отменить её нельзя.",
    },
    "history_no_audio": {
        "en": "This job has no audio to download (not finished yet, or deleted after the retention period).",
        "ru": "Аудио этой задачи нет (она не завершена или файл удалён по сроку хранения).",
    },
    "history_back": {"en": "Back to the history", "ru": "Назад к истории"},
    "history_job_asr": {"en": "Transcription", "ru": "Распознавание"},
    "history_job_tts": {"en": "Speech", "ru": "Озвучка"},
    "history_text": {"en": "Text", "ru": "Текст"},
    "history_no_transcript": {
        "en": "The transcript appears here when the job is completed.",
        "ru": "Расшифровка появится здесь, когда задача завершится.",
    },
    "history_download": {"en": "Download", "ru": "Скачать"},
    "history_download_audio": {"en": "Download the audio ({format})", "ru": "Скачать аудио ({format})"},
    "history_listen": {"en": "Listen", "ru": "Прослушать"},
    "history_details": {"en": "Details", "ru": "Подробности"},
    "history_started": {"en": "Started", "ru": "Начата"},
    "history_finished_at": {"en": "Finished", "ru": "Завершена"},
    "history_channel": {"en": "Channel", "ru": "Канал"},
    "history_file": {"en": "File", "ru": "Файл"},
    "history_audio_length": {"en": "Audio length", "ru": "Длина аудио"},
    "history_language": {"en": "Language", "ru": "Язык"},
    "history_model": {"en": "Model", "ru": "Модель"},
    "history_voice": {"en": "Voice", "ru": "Голос"},
    "history_format": {"en": "Format", "ru": "Формат"},
    "history_speed": {"en": "speed", "ru": "скорость"},
    "history_billing": {"en": "Billing", "ru": "Оплата"},
    "history_reserved": {"en": "Reserved", "ru": "Зарезервировано"},
    "history_rule": {"en": "Counted", "ru": "Как считается"},
    "history_rule_asr": {
        "en": "by the seconds of audio recognized, rounded up",
        "ru": "по секундам распознанного аудио, с округлением вверх",
    },
    "history_rule_tts": {
        "en": "by the seconds of speech made, rounded up",
        "ru": "по секундам созданной речи, с округлением вверх",
    },
    "history_segments": {"en": "Segments", "ru": "Фрагменты"},
    "history_start": {"en": "Start", "ru": "Начало"},
    "history_end": {"en": "End", "ru": "Конец"},
    "history_speaker": {"en": "Speaker", "ru": "Говорящий"},
    "history_seconds": {"en": "{s} s", "ru": "{s} с"},
    # Units
    "minutes_seconds": {"en": "{m} min {s} s", "ru": "{m} мин {s} с"},
    "minutes_only": {"en": "{m} min", "ru": "{m} мин"},
    "seconds_only": {"en": "{s} s", "ru": "{s} с"},
    "unit_min": {"en": "min", "ru": "мин"},
}


def say(lang: str, key: str, **values: object) -> str:
    """One text in ``lang`` (English when missing), with ``values`` filled in."""
    entry = TEXTS[key]
    text = entry.get(lang) or entry[DEFAULT]
    return text.format(**values) if values else text


def from_accept_language(header: str | None) -> str:
    """The first of our languages the browser asks for (by q-value), else English."""
    best, best_q = DEFAULT, -1.0
    for position, part in enumerate((header or "").split(",")[:20]):
        tag, _, params = part.strip().partition(";")
        q = 1.0
        for param in params.split(";"):
            name, _, value = param.strip().partition("=")
            if name == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
        lang = tag.strip().lower()[:2]
        # Ties keep the earlier tag (q-values equal: the browser's order decides).
        if lang in LANGUAGES and q > 0 and q - position * 1e-6 > best_q:
            best, best_q = lang, q - position * 1e-6
    return best


def duration(lang: str, seconds: int) -> str:
    """Seconds as "12 min 5 s" (what the balance and the charges are counted in)."""
    seconds = max(0, int(seconds))
    m, s = divmod(seconds, 60)
    if m and s:
        return say(lang, "minutes_seconds", m=m, s=s)
    if m:
        return say(lang, "minutes_only", m=m)
    return say(lang, "seconds_only", s=s)
