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
