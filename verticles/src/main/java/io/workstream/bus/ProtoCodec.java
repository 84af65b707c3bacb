package io.workstream.bus;

import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Message;
import com.google.protobuf.Parser;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.eventbus.MessageCodec;

/**
 * Carries one protobuf message type on the event bus: on the wire as its bytes (length-prefixed), locally as the
 * same immutable instance. Registered under the same name on every node.
 */
final class ProtoCodec<T extends Message> implements MessageCodec<T, T> {

  private final String name;
  private final Parser<T> parser;

  ProtoCodec(Class<T> type, Parser<T> parser) {
    this.name = "proto:" + type.getName();
    this.parser = parser;
  }

  @Override
  public void encodeToWire(Buffer buffer, T message) {
    byte[] bytes = message.toByteArray();
    buffer.appendInt(bytes.length).appendBytes(bytes);
  }

  @Override
  public T decodeFromWire(int pos, Buffer buffer) {
    int length = buffer.getInt(pos);
    try {
      return parser.parseFrom(buffer.getBytes(pos + 4, pos + 4 + length));
    } catch (InvalidProtocolBufferException e) {
      throw new IllegalStateException("corrupt " + name + " on the event bus", e);
    }
  }

  @Override
  public T transform(T message) {
    return message;
  }

  @Override
  public String name() {
    return name;
  }

  @Override
  public byte systemCodecID() {
    return -1;
  }
}
