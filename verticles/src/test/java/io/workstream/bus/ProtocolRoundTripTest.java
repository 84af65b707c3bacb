package io.workstream.bus;

import com.google.protobuf.Message;
import io.vertx.core.buffer.Buffer;
import io.workstream.protocol.v1.ClientMessage;
import io.workstream.protocol.v1.ServerMessage;
import io.workstream.testing.RandomMessages;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.quicktheories.QuickTheory.qt;
import static org.quicktheories.generators.SourceDSL.integers;
import static org.quicktheories.generators.SourceDSL.longs;

/** Every ClientMessage and ServerMessage survives the wire and the event bus unchanged. */
class ProtocolRoundTripTest {

  @Test
  void everyClientMessageRoundTrips() {
    qt().withExamples(2_000).forAll(longs().all())
      .checkAssert(seed -> assertRoundTrip(RandomMessages.random(ClientMessage.getDefaultInstance(), seed)));
  }

  @Test
  void everyServerMessageRoundTrips() {
    qt().withExamples(2_000).forAll(longs().all())
      .checkAssert(seed -> assertRoundTrip(RandomMessages.random(ServerMessage.getDefaultInstance(), seed)));
  }

  @Test
  void theEventBusCodecDecodesAtAnyOffset() {
    ProtoCodec<ServerMessage> codec = new ProtoCodec<>(ServerMessage.class, ServerMessage.parser());
    qt().withExamples(500).forAll(longs().all(), integers().between(0, 64)).checkAssert((seed, offset) -> {
      ServerMessage message = RandomMessages.random(ServerMessage.getDefaultInstance(), seed);
      Buffer wire = Buffer.buffer(new byte[offset]);
      codec.encodeToWire(wire, message);
      assertEquals(message, codec.decodeFromWire(offset, wire));
      assertEquals(message, codec.transform(message));
    });
  }

  private static void assertRoundTrip(Message message) {
    try {
      assertEquals(message, message.getParserForType().parseFrom(message.toByteArray()));
    } catch (com.google.protobuf.InvalidProtocolBufferException e) {
      throw new AssertionError(e);
    }
  }
}
