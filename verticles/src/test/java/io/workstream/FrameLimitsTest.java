package io.workstream;

import com.google.protobuf.ByteString;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import io.workstream.protocol.v1.ClientMessage;
import io.workstream.protocol.v1.Ping;
import io.workstream.protocol.v1.ServerMessage;
import io.workstream.testing.RandomMessages;
import io.workstream.testing.RawWebSocket;
import io.workstream.testing.TestDatabase;
import io.workstream.testing.TestService;
import io.workstream.testing.WsClient;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.Set;

import static io.workstream.testing.Messages.create;
import static io.workstream.testing.Messages.newId;
import static io.workstream.testing.Messages.subscribe;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.quicktheories.QuickTheory.qt;
import static org.quicktheories.generators.SourceDSL.longs;

/** Oversized, textual, empty, undecodable and hostile frames: answered or closed per the protocol, nobody else hurt. */
class FrameLimitsTest {

  static final int MAX_FRAME = 16 * 1024;
  static TestService service;

  @BeforeAll
  static void start() {
    JsonObject config = TestService.baseConfig(TestDatabase.shared());
    config.getJsonObject("gateway").put("maxFrameBytes", MAX_FRAME)
      .put("rateLimit", new JsonObject().put("messagesPerSecond", 100_000).put("burst", 100_000));
    service = TestService.start(config);
  }

  @AfterAll
  static void stop() {
    service.close();
  }

  @Test
  void anOversizedFrameClosesTheConnectionWith1009AndNoOneElse() {
    try (WsClient bystander = service.connect(newId(), "member");
         WsClient offender = service.connect(newId(), "member")) {
      ClientMessage huge = create(newId(), "x").setCreateWorkItem(create(newId(), "x").getCreateWorkItemBuilder()
        .setDescription("d".repeat(MAX_FRAME))).setMessageId(newId()).build();
      offender.sendBinary(Buffer.buffer(huge.toByteArray()));
      assertEquals(1009, offender.awaitClose());
      assertTrue(bystander.request(create(newId(), "still fine")).hasWorkItemAck());
    }
  }

  @Test
  void aMessageOverTheLimitInSmallFragmentsIsRefusedToo() {
    try (RawWebSocket raw = RawWebSocket.connect(service.port, service.token(newId(), "fragments", "member"))) {
      byte[] fragment = new byte[4 * 1024];
      raw.sendFrame(false, 0x2, fragment);
      for (int i = 0; i < 4; i++) {
        raw.sendFrame(false, 0x0, fragment);
      }
      raw.sendFrame(true, 0x0, fragment);
      assertEquals(1009, raw.awaitCloseCode());
    }
  }

  /**
   * A compression bomb: 60 MB of zeros deflated to about 60 KB, under the frame limit on the wire. The server does
   * not negotiate permessage-deflate (an inflated size it cannot bound before the message-size check), so the
   * compressed frame is a protocol error: the connection closes and nothing is inflated.
   */
  @Test
  void aCompressionBombIsNeverInflated() {
    try (RawWebSocket raw = RawWebSocket.connect(service.port, service.token(newId(), "bomber", "member"),
      "Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n")) {
      assertEquals(101, raw.status);
      assertFalse(raw.responseHeaders.toLowerCase(java.util.Locale.ROOT).contains("permessage-deflate"),
        "compression is not negotiated: " + raw.responseHeaders);
      raw.sendFrame(true, true, 0x2, deflatedZeros(60 * 1024 * 1024));
      int code = raw.awaitCloseCode();
      assertTrue(code == 1002 || code == -1, "closed as a protocol error, got " + code);
    }
    assertEquals(200, service.get("/health/ready").status());
  }

  private static byte[] deflatedZeros(int size) {
    java.util.zip.Deflater deflater = new java.util.zip.Deflater(java.util.zip.Deflater.BEST_COMPRESSION, true);
    deflater.setInput(new byte[size]);
    deflater.finish();
    java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
    byte[] chunk = new byte[64 * 1024];
    while (!deflater.finished()) {
      out.write(chunk, 0, deflater.deflate(chunk));
    }
    deflater.end();
    return out.toByteArray();
  }

  @Test
  void textEmptyAndUndecodableFramesGetErrorsAndTheConnectionGoesOn() {
    try (WsClient client = service.connect(newId(), "member")) {
      client.sendText("{\"create\": true}");
      assertEquals("INVALID_MESSAGE", client.nextAnonymous().getError().getCode());
      client.sendBinary(Buffer.buffer(new byte[]{(byte) 0xff, (byte) 0xff, (byte) 0xff}));
      assertEquals("DECODE_ERROR", client.nextAnonymous().getError().getCode());
      ServerMessage empty = client.request(ClientMessage.newBuilder());
      assertEquals("INVALID_MESSAGE", empty.getError().getCode());
      ServerMessage unknownOperation = client.request(ClientMessage.newBuilder().setMessageId(newId())
        .setUnknownFields(com.google.protobuf.UnknownFieldSet.newBuilder().addField(99,
          com.google.protobuf.UnknownFieldSet.Field.newBuilder().addLengthDelimited(ByteString.copyFromUtf8("?"))
            .build()).build()));
      assertEquals("INVALID_MESSAGE", unknownOperation.getError().getCode());
      assertTrue(client.request(create(newId(), "after all that")).hasWorkItemAck());
    }
  }

  /**
   * Arbitrary bytes and arbitrary (mostly wrong) ClientMessages on one connection: every frame gets exactly one
   * answer, the connection stays open, and a second connection's requests and events are untouched meanwhile.
   */
  @Test
  void hostileFramesAreAnsweredOneByOneAndDisturbNobody() {
    qt().withExamples(8).withShrinkCycles(0).forAll(longs().all()).checkAssert(seed -> {
      Random random = new Random(seed);
      String neighbourProject = newId();
      try (WsClient fuzzed = service.connect(newId(), "member");
           WsClient neighbour = service.connect(newId(), "member")) {
        assertTrue(neighbour.request(subscribe(neighbourProject)).hasSubscribeAck());
        int frames = 60;
        for (int i = 0; i < frames; i++) {
          fuzzed.sendBinary(Buffer.buffer(hostileFrame(random)));
          if (i % 10 == 0) {
            assertTrue(neighbour.request(create(neighbourProject, "meanwhile " + i)).hasWorkItemAck());
          }
        }
        // Replies come in any order (some went to the database): wait for all of them, then for no more.
        List<ServerMessage> answers = new ArrayList<>();
        for (int i = 0; i < frames; i++) {
          answers.add(fuzzed.nextAnonymous());
        }
        ServerMessage pong = fuzzed.request(ClientMessage.newBuilder().setMessageId(newId())
          .setPing(Ping.newBuilder().setClientTimeMs(7)));
        assertEquals(7, pong.getPong().getClientTimeMs());
        assertEquals(null, fuzzed.pollAnonymous(), "one answer per frame, not more");
        for (ServerMessage m : answers) {
          assertTrue(m.hasError() ? KNOWN_CODES.contains(m.getError().getCode()) : m.getPayloadCase()
            != ServerMessage.PayloadCase.PAYLOAD_NOT_SET, m::toString);
          assertTrue(!m.getCorrelationId().isEmpty());
        }
        assertTrue(!fuzzed.isClosed());
        assertEquals(6, neighbour.events(6).size());
      }
    });
  }

  static final Set<String> KNOWN_CODES = Set.of("DECODE_ERROR", "INVALID_MESSAGE", "VALIDATION_ERROR", "NOT_FOUND",
    "CONFLICT", "DELETE_BLOCKED", "FORBIDDEN");

  /** Random bytes, a random message with a corrupted byte, or a random well-formed ClientMessage, never empty. */
  private static byte[] hostileFrame(Random random) {
    byte[] frame = switch (random.nextInt(3)) {
      case 0 -> {
        byte[] bytes = new byte[1 + random.nextInt(200)];
        random.nextBytes(bytes);
        yield bytes;
      }
      case 1 -> {
        byte[] bytes = RandomMessages.random(ClientMessage.getDefaultInstance(), random.nextLong()).toByteArray();
        if (bytes.length > 0) {
          bytes[random.nextInt(bytes.length)] ^= (byte) (1 + random.nextInt(255));
        }
        yield bytes;
      }
      default -> RandomMessages.random(ClientMessage.getDefaultInstance(), random.nextLong()).toBuilder()
        .setMessageId("").build().toByteArray();
    };
    return frame.length == 0 ? new byte[]{0} : frame;
  }
}
