package io.workstream.bus;

import io.vertx.core.buffer.Buffer;
import io.workstream.protocol.v1.ChangeEvent;
import io.workstream.protocol.v1.ServerMessage;

/** Encodes pushes as the bytes of one WebSocket frame. */
public final class Frames {

  private Frames() {
  }

  /** A change event push: its correlation id on the envelope too, no message id. */
  public static Buffer changeEvent(ChangeEvent event) {
    return Buffer.buffer(ServerMessage.newBuilder()
      .setCorrelationId(event.getCorrelationId())
      .setServerTimeMs(System.currentTimeMillis())
      .setChangeEvent(event)
      .build()
      .toByteArray());
  }
}
