package io.workstream.gateway;

import io.vertx.core.buffer.Buffer;
import io.workstream.bus.RequestContext;
import io.workstream.bus.WorkstreamException;
import io.workstream.protocol.v1.Goodbye;
import io.workstream.protocol.v1.Lagged;
import io.workstream.protocol.v1.Ping;
import io.workstream.protocol.v1.Pong;
import io.workstream.protocol.v1.ProjectCursor;
import io.workstream.protocol.v1.ServerMessage;

import java.util.List;
import java.util.UUID;

/** The {@code ServerMessage}s the gateway itself writes: replies, errors and its pushes (change events aside). */
final class Envelopes {

  private Envelopes() {
  }

  /** The envelope of a reply: the request's message id, the chain's correlation id, the server clock. */
  static ServerMessage reply(RequestContext ctx, ServerMessage payload) {
    return payload.toBuilder()
      .setMessageId(ctx.messageId())
      .setCorrelationId(ctx.correlationId())
      .setServerTimeMs(System.currentTimeMillis())
      .build();
  }

  static ServerMessage error(String messageId, String correlationId, WorkstreamException failure) {
    return ServerMessage.newBuilder()
      .setMessageId(messageId)
      .setCorrelationId(correlationId)
      .setServerTimeMs(System.currentTimeMillis())
      .setError(failure.toError())
      .build();
  }

  /** An error that answers no identifiable request (or none at all): no message id, a correlation id of its own. */
  static ServerMessage unsolicited(WorkstreamException failure) {
    return error("", UUID.randomUUID().toString(), failure);
  }

  /** The payload of a Ping's reply (the reply envelope is added like any other's). */
  static ServerMessage pong(Ping ping) {
    return ServerMessage.newBuilder().setPong(Pong.newBuilder()
      .setClientTimeMs(ping.getClientTimeMs())
      .setServerTimeMs(System.currentTimeMillis())).build();
  }

  /** Tells a subscriber, per project, the last seq it was sent before later events were dropped. */
  static ServerMessage lagged(List<ProjectCursor> cursors) {
    return ServerMessage.newBuilder().setServerTimeMs(System.currentTimeMillis())
      .setLagged(Lagged.newBuilder().addAllProjects(cursors))
      .build();
  }

  static ServerMessage goodbye(String reason, long reconnectAfterMs) {
    return ServerMessage.newBuilder().setServerTimeMs(System.currentTimeMillis())
      .setGoodbye(Goodbye.newBuilder().setReason(reason).setReconnectAfterMs(reconnectAfterMs))
      .build();
  }

  /** The bytes of one binary WebSocket frame. */
  static Buffer frame(ServerMessage message) {
    return Buffer.buffer(message.toByteArray());
  }
}
