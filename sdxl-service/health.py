"""grpc.health.v1.Health (proto/grpc/health/v1/health.proto): Check and Watch.

Written here rather than taken from grpcio-health-checking because Debian does not package that
module (and it is all of 60 lines). Each Watch holds one server thread while it is open; Easel
keeps one Watch per endpoint and renews it every minute, and server.py sizes its thread pool
for that.
"""
from __future__ import annotations

import threading
from typing import Dict, Optional

import grpc

SERVICE_NAME = "grpc.health.v1.Health"
# How often a Watch looks whether its call is still open, when nothing else wakes it.
_POLL_S = 1.0


class HealthService:
    def __init__(self, health_pb2):
        self._pb = health_pb2
        self._statuses: Dict[str, int] = {}
        self._changed = threading.Condition()
        self._closed = False

    @property
    def SERVING(self) -> int:
        return self._pb.HealthCheckResponse.SERVING

    @property
    def NOT_SERVING(self) -> int:
        return self._pb.HealthCheckResponse.NOT_SERVING

    def set_status(self, service: str, status: int) -> None:
        """Sets a service's status ("" is the whole server) and tells its watchers."""
        with self._changed:
            self._statuses[service] = status
            self._changed.notify_all()

    def close(self) -> None:
        """Ends every Watch (status OK): a graceful shutdown would otherwise wait on them."""
        with self._changed:
            self._closed = True
            self._changed.notify_all()

    def _status(self, service: str) -> Optional[int]:
        return self._statuses.get(service)

    def check(self, request, context):
        with self._changed:
            status = self._status(request.service)
        if status is None:
            context.abort(grpc.StatusCode.NOT_FOUND, f'Unknown service "{request.service}"')
        return self._pb.HealthCheckResponse(status=status)

    def watch(self, request, context):
        unknown = self._pb.HealthCheckResponse.SERVICE_UNKNOWN
        context.add_callback(self._notify)  # wakes the wait below when the call ends
        sent: Optional[int] = None
        while True:
            with self._changed:
                while not self._closed and context.is_active():
                    current = self._status(request.service)
                    current = unknown if current is None else current
                    if current != sent:
                        break
                    self._changed.wait(_POLL_S)
                if self._closed or not context.is_active():
                    return
            sent = current
            yield self._pb.HealthCheckResponse(status=current)

    def _notify(self) -> None:
        with self._changed:
            self._changed.notify_all()

    def handler(self) -> grpc.GenericRpcHandler:
        req = self._pb.HealthCheckRequest
        res = self._pb.HealthCheckResponse
        return grpc.method_handlers_generic_handler(SERVICE_NAME, {
            "Check": grpc.unary_unary_rpc_method_handler(
                self.check, request_deserializer=req.FromString, response_serializer=res.SerializeToString),
            "Watch": grpc.unary_stream_rpc_method_handler(
                self.watch, request_deserializer=req.FromString, response_serializer=res.SerializeToString),
        })
