package io.workstream.gateway;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http.websocketx.BinaryWebSocketFrame;
import io.netty.handler.codec.http.websocketx.ContinuationWebSocketFrame;
import io.netty.handler.codec.http.websocketx.WebSocket08FrameDecoder;
import io.netty.handler.codec.http.websocketx.WebSocketDecoderConfig;
import io.netty.handler.codec.http.websocketx.WebSocketFrame;
import io.vertx.core.buffer.Buffer;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.quicktheories.QuickTheory.qt;
import static org.quicktheories.generators.SourceDSL.integers;
import static org.quicktheories.generators.SourceDSL.longs;

/**
 * The frames the wire writes itself are what a client's WebSocket decoder (Netty's, as strict as any) reads back as
 * the same message: one binary frame, or a binary frame and continuations each within the frame limit, the last one
 * final; shared frames and per-socket frames alike.
 */
class WebSocketWireFramingTest {

  @Test
  void everyMessageDecodesToItselfWithinTheFrameLimit() {
    qt().withExamples(500)
      .forAll(integers().between(0, 300_000), integers().between(1, 70_000), longs().all())
      .checkAssert((length, maxFrameBytes, seed) -> {
        byte[] message = new byte[length];
        new Random(seed).nextBytes(message);
        assertDecodesTo(message, maxFrameBytes,
          WebSocketWire.encode(ByteBufAllocator.DEFAULT, Buffer.buffer(message), maxFrameBytes));
        ByteBuf shared = WebSocketWire.shared(Buffer.buffer(message), maxFrameBytes);
        assertEquals(shared.capacity(), shared.readableBytes(), "the shared frames are sized exactly");
        // Each socket reads its own view; the shared bytes are never consumed or freed by a write.
        assertDecodesTo(message, maxFrameBytes, shared.duplicate());
        assertDecodesTo(message, maxFrameBytes, shared.duplicate());
      });
  }

  private static void assertDecodesTo(byte[] message, int maxFrameBytes, ByteBuf frames) {
    EmbeddedChannel client = new EmbeddedChannel(new WebSocket08FrameDecoder(WebSocketDecoderConfig.newBuilder()
      .expectMaskedFrames(false).allowMaskMismatch(false).maxFramePayloadLength(Math.max(maxFrameBytes, 1))
      .build()));
    client.writeInbound(frames);
    ByteArrayOutputStream received = new ByteArrayOutputStream();
    boolean first = true;
    boolean last = false;
    for (WebSocketFrame frame; (frame = client.readInbound()) != null; first = false) {
      try {
        assertTrue(!last, "nothing follows the final frame");
        Class<? extends WebSocketFrame> expected = first ? BinaryWebSocketFrame.class : ContinuationWebSocketFrame.class;
        assertEquals(expected, frame.getClass());
        assertTrue(frame.content().readableBytes() <= maxFrameBytes, "a frame within the limit");
        last = frame.isFinalFragment();
        byte[] bytes = new byte[frame.content().readableBytes()];
        frame.content().readBytes(bytes);
        received.writeBytes(bytes);
      } finally {
        frame.release();
      }
    }
    assertTrue(last, "the message ends with a final frame");
    assertArrayEquals(message, received.toByteArray());
    assertNull(client.readInbound());
    assertEquals(false, client.finish());
  }
}
