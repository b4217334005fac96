"""A Telegram Bot API emulation on 127.0.0.1 for end-to-end tests of the real bot clients.

It speaks the Bot API's wire format (``{root}/bot{token}/{method}``, files at
``{root}/file/bot{token}/{path}``; form, multipart or JSON bodies; ``attach://`` file parts) well
enough for aiogram 3 and python-telegram-bot 22: long-polled ``getUpdates``, the sending and
editing methods, files, invoices, webhooks. Tests play the users: they push updates (or POST
them to a webhook) and read what the bot did from ``calls`` and the chats' message state.
Failures can be injected per method (``fail_next``), e.g. a 429 with ``retry_after``.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

BOT_ID = 7000001
CLOUD_FILE_LIMIT = 20 * 1024 * 1024


@dataclass
class Call:
    """One request the bot made."""

    method: str
    params: dict[str, Any]
    files: dict[str, bytes] = field(default_factory=dict)
    at: float = field(default_factory=time.monotonic)


@dataclass
class SentMessage:
    """A message the bot sent, as it looks now (edits applied, deletion marked)."""

    chat_id: int
    message_id: int
    kind: str  # text | voice | document | invoice
    text: str | None = None
    reply_to: int | None = None
    reply_markup: dict[str, Any] | None = None
    data: bytes | None = None
    filename: str | None = None
    params: dict[str, Any] = field(default_factory=dict)
    edits: list[str] = field(default_factory=list)
    deleted: bool = False

    @property
    def buttons(self) -> list[tuple[str, str]]:
        """(text, callback_data) of every inline button."""
        rows = (self.reply_markup or {}).get("inline_keyboard", [])
        return [(b["text"], b.get("callback_data", "")) for row in rows for b in row]


class TelegramEmulator:
    """The fake Bot API server; ``await start()`` then use ``url`` as NAGOVORI_TELEGRAM_API_URL."""

    def __init__(self, token: str, *, username: str = "nagovori_test_bot") -> None:
        self.token = token
        self.username = username
        self.url = ""
        self.calls: list[Call] = []
        self.messages: dict[tuple[int, int], SentMessage] = {}
        self.files: dict[str, bytes] = {}
        self.members: dict[tuple[int, int], str] = {}
        self.webhook: dict[str, Any] | None = None
        self.fail_next: dict[str, list[tuple[int, str, dict[str, Any] | None, int]]] = {}
        self.pre_checkout_answers: dict[str, dict[str, Any]] = {}
        self._updates: list[dict[str, Any]] = []
        self._new_update = asyncio.Condition()
        self._update_ids = itertools.count(1000)
        self._message_ids: dict[int, itertools.count[int]] = {}
        self._file_ids = itertools.count(1)
        self._runner: web.AppRunner | None = None

    # --- server -------------------------------------------------------------------------------

    async def start(self) -> None:
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_post("/bot{token}/{method}", self._api)
        app.router.add_get("/bot{token}/{method}", self._api)
        app.router.add_get("/file/bot{token}/{path:.+}", self._file)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.url = f"http://127.0.0.1:{port}"

    async def stop(self) -> None:
        async with self._new_update:
            self._new_update.notify_all()
        if self._runner is not None:
            await self._runner.cleanup()

    async def _params(self, request: web.Request) -> tuple[dict[str, Any], dict[str, bytes]]:
        params: dict[str, Any] = {}
        files: dict[str, bytes] = {}
        if request.content_type == "application/json":
            body = await request.read()
            params = json.loads(body) if body else {}
        elif request.method == "POST":
            form = await request.post()
            for key, value in form.items():
                if isinstance(value, web.FileField):
                    files[key] = value.file.read()
                    params.setdefault(key, f"attach://{key}")
                    params[f"{key}__filename"] = value.filename
                else:
                    params[key] = _decode(str(value))
        params.update({k: _decode(v) for k, v in request.query.items()})
        # Resolve attach:// references (aiogram names file parts by random tokens).
        for key, value in list(params.items()):
            if isinstance(value, str) and value.startswith("attach://"):
                part = value.removeprefix("attach://")
                if part in files:
                    files[key] = files[part]
                    params[f"{key}__filename"] = params.get(f"{part}__filename")
        return params, files

    async def _api(self, request: web.Request) -> web.Response:
        if request.match_info["token"] != self.token:
            return _error(401, "Unauthorized")
        method = request.match_info["method"]
        params, files = await self._params(request)
        self.calls.append(Call(method, params, files))
        injected = self.fail_next.get(method)
        if injected:
            status, description, parameters, after = injected[0]
            if after > 0:
                injected[0] = (status, description, parameters, after - 1)
            else:
                injected.pop(0)
                return _error(status, description, parameters)
        handler = getattr(self, f"_m_{method.lower()}", None)
        if handler is None:
            return _error(404, f"Not Found: method {method} is not emulated")
        try:
            result = await handler(params, files)
        except _ApiError as exc:
            return _error(exc.status, exc.description)
        return web.json_response({"ok": True, "result": result})

    async def _file(self, request: web.Request) -> web.StreamResponse:
        if request.match_info["token"] != self.token:
            return web.Response(status=401)
        file_id = request.match_info["path"].rsplit("/", 1)[-1]
        data = self.files.get(file_id)
        if data is None:
            return web.Response(status=404)
        return web.Response(body=data, content_type="application/octet-stream")

    # --- what tests do ------------------------------------------------------------------------

    def add_file(self, data: bytes) -> str:
        file_id = f"file{next(self._file_ids)}"
        self.files[file_id] = data
        return file_id

    def _new_file(self, data: bytes, **fields: Any) -> dict[str, Any]:
        """``data`` stored as a new file (served by getFile), described as the Bot API does."""
        return _file_object(self.add_file(data), data, **fields)

    def set_member(self, chat_id: int, user_id: int, status: str) -> None:
        self.members[(chat_id, user_id)] = status

    def fail(self, method: str, status: int, description: str, *, after: int = 0, **parameters: Any) -> None:
        """Make a call of ``method`` fail (e.g. 429 with ``retry_after=1``): the next one, or the
        one after ``after`` more successful calls."""
        self.fail_next.setdefault(method, []).append((status, description, parameters or None, after))

    def next_update_id(self) -> int:
        return next(self._update_ids)

    def message_update(
        self,
        user: dict[str, Any],
        *,
        chat: dict[str, Any] | None = None,
        text: str | None = None,
        media: tuple[str, dict[str, Any]] | None = None,
        reply_to: dict[str, Any] | None = None,
        extra: dict[str, Any] | None = None,
        update_id: int | None = None,
    ) -> dict[str, Any]:
        """An update with a message from ``user`` (in their private chat unless ``chat``)."""
        chat = chat or {"id": user["id"], "type": "private", "first_name": user["first_name"]}
        message: dict[str, Any] = {
            "message_id": self._next_message_id(chat["id"]),
            "date": int(time.time()),
            "chat": chat,
            "from": user,
        }
        if text is not None:
            key = "caption" if media else "text"
            message[key] = text
            if text.startswith("/") and not media:
                command = text.split()[0]
                message["entities"] = [{"type": "bot_command", "offset": 0, "length": len(command)}]
        if media is not None:
            message[media[0]] = media[1]
        if reply_to is not None:
            message["reply_to_message"] = reply_to
        message.update(extra or {})
        return {"update_id": update_id or self.next_update_id(), "message": message}

    def voice(
        self, data: bytes, duration: int, *, kind: str = "voice", **extra: Any
    ) -> tuple[str, dict[str, Any]]:
        """Media for ``message_update``: the file is stored and served by getFile."""
        item = self._new_file(data)
        if kind == "voice":
            item.update(duration=duration, mime_type="audio/ogg")
        elif kind == "video_note":
            item.update(duration=duration, length=240)
        elif kind in ("audio", "video"):
            item.update(duration=duration, mime_type="audio/ogg" if kind == "audio" else "video/mp4")
            if kind == "video":
                item.update(width=320, height=240)
        item.update(extra)
        return kind, item

    def callback_update(self, user: dict[str, Any], message: SentMessage, data: str) -> dict[str, Any]:
        chat = {"id": message.chat_id, "type": "private", "first_name": user["first_name"]}
        if message.chat_id < 0:
            chat = {"id": message.chat_id, "type": "supergroup", "title": "group"}
        return {
            "update_id": self.next_update_id(),
            "callback_query": {
                "id": f"cb{self.next_update_id()}",
                "from": user,
                "chat_instance": "ci",
                "data": data,
                "message": {
                    "message_id": message.message_id,
                    "date": int(time.time()),
                    "chat": chat,
                    "from": self.me(),
                    "text": message.text or "",
                },
            },
        }

    def pre_checkout_update(self, user: dict[str, Any], invoice: SentMessage) -> dict[str, Any]:
        return {
            "update_id": self.next_update_id(),
            "pre_checkout_query": {
                "id": f"pcq{self.next_update_id()}",
                "from": user,
                "currency": invoice.params["currency"],
                "total_amount": invoice.params["prices"][0]["amount"],
                "invoice_payload": invoice.params["payload"],
            },
        }

    def payment_update(
        self, user: dict[str, Any], invoice: SentMessage, charge_id: str, *, update_id: int | None = None
    ) -> dict[str, Any]:
        payment = {
            "currency": invoice.params["currency"],
            "total_amount": invoice.params["prices"][0]["amount"],
            "invoice_payload": invoice.params["payload"],
            "telegram_payment_charge_id": charge_id,
            "provider_payment_charge_id": "",
        }
        return self.message_update(user, extra={"successful_payment": payment}, update_id=update_id)

    async def push(self, update: dict[str, Any]) -> dict[str, Any]:
        """Queue an update for getUpdates."""
        async with self._new_update:
            self._updates.append(update)
            self._new_update.notify_all()
        return update

    def sent(
        self, chat_id: int, *, kind: str | None = None, include_deleted: bool = False
    ) -> list[SentMessage]:
        """Messages the bot sent to ``chat_id``, oldest first."""
        return [
            m
            for (c, _), m in sorted(self.messages.items(), key=lambda item: item[0][1])
            if c == chat_id and (kind is None or m.kind == kind) and (include_deleted or not m.deleted)
        ]

    def called(self, method: str) -> list[Call]:
        return [c for c in self.calls if c.method.lower() == method.lower()]

    async def wait_for(self, condition: Callable[[], Any], *, within: float = 30, what: str = "") -> Any:
        """Poll ``condition`` until it returns something truthy; fail after ``within`` seconds."""
        deadline = time.monotonic() + within
        while time.monotonic() < deadline:
            value = condition()
            if value:
                return value
            await asyncio.sleep(0.05)
        raise AssertionError(
            f"timed out waiting for {what or condition}; calls: {[c.method for c in self.calls]}"
        )

    def me(self) -> dict[str, Any]:
        return {"id": BOT_ID, "is_bot": True, "first_name": "Nagovori", "username": self.username}

    # --- methods ------------------------------------------------------------------------------

    def _next_message_id(self, chat_id: int) -> int:
        counter = self._message_ids.setdefault(chat_id, itertools.count(1))
        return next(counter)

    def _message(self, chat_id: int, **content: Any) -> dict[str, Any]:
        chat: dict[str, Any] = (
            {"id": chat_id, "type": "private", "first_name": "User"}
            if chat_id > 0
            else {"id": chat_id, "type": "supergroup", "title": "group"}
        )
        return {
            "message_id": self._next_message_id(chat_id),
            "date": int(time.time()),
            "chat": chat,
            "from": self.me(),
            **content,
        }

    def _store(
        self, message: dict[str, Any], kind: str, params: dict[str, Any], **fields: Any
    ) -> dict[str, Any]:
        reply = params.get("reply_parameters") or {}
        reply_to = reply.get("message_id") if isinstance(reply, dict) else None
        reply_to = reply_to or params.get("reply_to_message_id")
        chat_id = message["chat"]["id"]
        self.messages[(chat_id, message["message_id"])] = SentMessage(
            chat_id=chat_id,
            message_id=message["message_id"],
            kind=kind,
            text=message.get("text") or message.get("caption"),
            reply_to=int(reply_to) if reply_to else None,
            reply_markup=params.get("reply_markup") or None,
            params=params,
            **fields,
        )
        return message

    async def _m_getme(self, params: dict[str, Any], files: dict[str, bytes]) -> Any:
        return {
            **self.me(),
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
        }

    async def _m_getupdates(self, params: dict[str, Any], files: dict[str, bytes]) -> Any:
        offset = int(params.get("offset") or 0)
        timeout = float(params.get("timeout") or 0)
        limit = int(params.get("limit") or 100)
        if self.webhook is not None:
            raise _ApiError(409, "Conflict: can't use getUpdates method while webhook is active")
        async with self._new_update:
            self._updates = [u for u in self._updates if u["update_id"] >= offset]
            if not self._updates and timeout > 0:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._new_update.wait(), timeout)
            self._updates = [u for u in self._updates if u["update_id"] >= offset]
            return self._updates[:limit]

    async def _m_sendmessage(self, params: dict[str, Any], files: dict[str, bytes]) -> Any:
        chat_id = int(params["chat_id"])
        text = str(params["text"])
        if len(text) > 4096:
            raise _ApiError(400, "Bad Request: message is too long")
        if not text.strip():
            raise _ApiError(400, "Bad Request: message text is empty")
        extra = {"reply_markup": params["reply_markup"]} if params.get("reply_markup") else {}
        return self._store(self._message(chat_id, text=text, **extra), "text", params)

    async def _m_editmessagetext(self, params: dict[str, Any], files: dict[str, bytes]) -> Any:
        key = (int(params["chat_id"]), int(params["message_id"]))
        stored = self.messages.get(key)
        if stored is None or stored.deleted:
            raise _ApiError(400, "Bad Request: message to edit not found")
        text = str(params["text"])
        markup = params.get("reply_markup") or None
        if text == stored.text and markup == stored.reply_markup:
            raise _ApiError(
                400,
                "Bad Request: message is not modified: specified new message content and reply markup "
                "are exactly the same as a current content and reply markup of the message",
            )
        stored.edits.append(text)
        stored.text = text
        stored.reply_markup = markup
        chat = (
            {"id": key[0], "type": "private", "first_name": "User"}
            if key[0] > 0
            else {
                "id": key[0],
                "type": "supergroup",
                "title": "group",
            }
        )
        return {
            "message_id": key[1],
            "date": int(time.time()),
            "edit_date": int(time.time()),
            "chat": chat,
            "from": self.me(),
            "text": text,
        }

    async def _m_deletemessage(self, params: dict[str, Any], files: dict[str, bytes]) -> Any:
        stored = self.messages.get((int(params["chat_id"]), int(params["message_id"])))
        if stored is None or stored.deleted:
            raise _ApiError(400, "Bad Request: message to delete not found")
        stored.deleted = True
        return True

    def _upload(self, params: dict[str, Any], files: dict[str, bytes], field_name: str) -> tuple[bytes, str]:
        data = files.get(field_name)
        if data is None:
            raise _ApiError(400, f"Bad Request: there is no {field_name} in the request")
        return data, str(params.get(f"{field_name}__filename") or field_name)

    async def _m_sendvoice(self, params: dict[str, Any], files: dict[str, bytes]) -> Any:
        data, filename = self._upload(params, files, "voice")
        voice = self._new_file(data, duration=int(params.get("duration") or 0), mime_type="audio/ogg")
        message = self._message(int(params["chat_id"]), voice=voice)
        return self._store(message, "voice", params, data=data, filename=filename)

    async def _m_senddocument(self, params: dict[str, Any], files: dict[str, bytes]) -> Any:
        data, filename = self._upload(params, files, "document")
        content: dict[str, Any] = {"document": self._new_file(data, file_name=filename)}
        if params.get("caption"):
            content["caption"] = params["caption"]
        message = self._message(int(params["chat_id"]), **content)
        return self._store(message, "document", params, data=data, filename=filename)

    async def _m_sendinvoice(self, params: dict[str, Any], files: dict[str, bytes]) -> Any:
        prices = params["prices"]
        invoice = {
            "title": params["title"],
            "description": params["description"],
            "start_parameter": "",
            "currency": params["currency"],
            "total_amount": sum(int(p["amount"]) for p in prices),
        }
        return self._store(self._message(int(params["chat_id"]), invoice=invoice), "invoice", params)

    async def _m_answerprecheckoutquery(self, params: dict[str, Any], files: dict[str, bytes]) -> Any:
        self.pre_checkout_answers[str(params["pre_checkout_query_id"])] = params
        return True

    async def _m_answercallbackquery(self, params: dict[str, Any], files: dict[str, bytes]) -> Any:
        return True

    async def _m_sendchataction(self, params: dict[str, Any], files: dict[str, bytes]) -> Any:
        return True

    async def _m_getchatmember(self, params: dict[str, Any], files: dict[str, bytes]) -> Any:
        user_id = int(params["user_id"])
        status = self.members.get((int(params["chat_id"]), user_id), "member")
        member: dict[str, Any] = {
            "status": status,
            "user": {"id": user_id, "is_bot": False, "first_name": "U"},
        }
        if status == "creator":
            member["is_anonymous"] = False
        return member

    async def _m_getfile(self, params: dict[str, Any], files: dict[str, bytes]) -> Any:
        file_id = str(params["file_id"])
        data = self.files.get(file_id)
        if data is None:
            raise _ApiError(400, "Bad Request: invalid file_id")
        if len(data) > CLOUD_FILE_LIMIT:
            raise _ApiError(400, "Bad Request: file is too big")
        return _file_object(file_id, data, file_path=f"files/{file_id}")

    async def _m_setwebhook(self, params: dict[str, Any], files: dict[str, bytes]) -> Any:
        self.webhook = params
        return True

    async def _m_deletewebhook(self, params: dict[str, Any], files: dict[str, bytes]) -> Any:
        self.webhook = None
        return True

    async def _m_getwebhookinfo(self, params: dict[str, Any], files: dict[str, bytes]) -> Any:
        return {
            "url": (self.webhook or {}).get("url", ""),
            "has_custom_certificate": False,
            "pending_update_count": 0,
        }


class _ApiError(Exception):
    def __init__(self, status: int, description: str) -> None:
        super().__init__(description)
        self.status = status
        self.description = description


def _file_object(file_id: str, data: bytes, **fields: Any) -> dict[str, Any]:
    """A Bot API ``File`` (or the common part of ``Voice``, ``Document`` …) for stored ``data``."""
    return {"file_id": file_id, "file_unique_id": f"u{file_id}", "file_size": len(data), **fields}


def _error(status: int, description: str, parameters: dict[str, Any] | None = None) -> web.Response:
    body: dict[str, Any] = {"ok": False, "error_code": status, "description": description}
    if parameters:
        body["parameters"] = parameters
    # Telegram answers errors with their HTTP status; both clients read the JSON body.
    return web.json_response(body, status=status)


def _decode(value: str) -> Any:
    """Form values carry JSON for objects and arrays (reply_markup, prices, …)."""
    if value[:1] in ("{", "[") or value in ("true", "false"):
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value
