"""Clients that ask and never read: raw HTTP/2 connections for the abuse tests.

A grpc client cannot be told to stop reading, so these speak HTTP/2 themselves (the h2 library):
every stream announces a receive window of 0, so the server can send headers but not one byte
of a response message, while the connection stays healthy in the server's eyes (pings are
answered, h2 does it by itself). That is what a slow or hostile client looks like to the server.
"""

from __future__ import annotations

import asyncio
import contextlib
import struct
from collections.abc import Sequence

import h2.config
import h2.connection
import h2.events
import h2.exceptions
import h2.settings


def grpc_frame(message: bytes) -> bytes:
    """A message in gRPC's length-prefixed framing (not compressed)."""
    return struct.pack(">?I", False, len(message)) + message


class StalledConnection:
    """One HTTP/2 connection whose streams never accept response data."""

    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        config = h2.config.H2Configuration(client_side=True, header_encoding="utf-8")
        self.h2 = h2.connection.H2Connection(config)
        self.ended: dict[int, str] = {}  # stream id -> how it ended: grpc-status, or "reset"
        self.headers: dict[int, dict[str, str]] = {}
        self.refused = 0  # calls not started: beyond the server's limit of streams at once
        self._unsent: dict[int, bytes] = {}  # request bytes waiting for the server's window
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None
        self._pump: asyncio.Task[None] | None = None
        self.closed = asyncio.Event()
        self.settled = asyncio.Event()  # the server's settings (its stream limit) arrived

    async def open(self) -> StalledConnection:
        self._reader, self._writer = await asyncio.open_connection(self.host, self.port)
        self.h2.local_settings = h2.settings.Settings(
            client=True, initial_values={h2.settings.SettingCodes.INITIAL_WINDOW_SIZE: 0}
        )
        self.h2.initiate_connection()
        self._flush()
        self._pump = asyncio.create_task(self._read())
        await asyncio.wait_for(self.settled.wait(), 10)
        return self

    def call(self, method: str, request: bytes, metadata: Sequence[tuple[str, str]] = ()) -> int:
        """Start a unary or server-streaming call; its stream id. Nothing of the answer is read."""
        stream = self.h2.get_next_available_stream_id()
        headers = [
            (":method", "POST"),
            (":scheme", "http"),
            (":path", method),
            (":authority", f"{self.host}:{self.port}"),
            ("content-type", "application/grpc"),
            ("te", "trailers"),
            *metadata,
        ]
        try:
            self.h2.send_headers(stream, headers)
        except h2.exceptions.TooManyStreamsError:
            self.refused += 1
            return -1
        self._unsent[stream] = grpc_frame(request)
        self._send_requests()
        return stream

    def _send_requests(self) -> None:
        """As much of the requests as the server's flow-control windows let through."""
        for stream, data in list(self._unsent.items()):
            if stream in self.ended:
                del self._unsent[stream]
                continue
            size = min(
                len(data),
                self.h2.local_flow_control_window(stream),
                self.h2.max_outbound_frame_size,
            )
            if size or not data:
                self.h2.send_data(stream, data[:size], end_stream=size == len(data))
                if size == len(data):
                    del self._unsent[stream]
                else:
                    self._unsent[stream] = data[size:]
        self._flush()

    def _flush(self) -> None:
        if self._writer is not None and not self._writer.is_closing():
            self._writer.write(self.h2.data_to_send())

    async def _read(self) -> None:
        assert self._reader is not None
        try:
            while data := await self._reader.read(65536):
                for event in self.h2.receive_data(data):
                    self._note(event)
                self._send_requests()
        except (ConnectionError, h2.exceptions.ProtocolError):
            pass
        finally:
            self.closed.set()

    def _note(self, event: h2.events.Event) -> None:
        if isinstance(event, h2.events.RemoteSettingsChanged):
            self.settled.set()
        elif isinstance(event, h2.events.ResponseReceived | h2.events.TrailersReceived):
            fields = {str(k): str(v) for k, v in event.headers or ()}
            self.headers.setdefault(event.stream_id or 0, {}).update(fields)
            if "grpc-status" in fields:
                self.ended[event.stream_id or 0] = fields["grpc-status"]
        elif isinstance(event, h2.events.StreamReset):
            self.ended[event.stream_id or 0] = "reset"

    def status(self, stream: int) -> str | None:
        """The call's grpc-status (or "reset") once the server ended it; None while it lasts."""
        return self.ended.get(stream)

    async def close(self) -> None:
        """Drop the connection without a word, as a client that went away does."""
        if self._writer is not None:
            self._writer.transport.abort()
        if self._pump is not None:
            self._pump.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._pump
