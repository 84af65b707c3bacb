package io.workstream;

import io.workstream.protocol.v1.ChangeEvent;
import io.workstream.protocol.v1.ProjectCursor;
import io.workstream.protocol.v1.ServerMessage;
import io.workstream.protocol.v1.SubscriptionState;
import io.workstream.testing.TestService;
import io.workstream.testing.WsClient;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static io.workstream.testing.Messages.newId;
import static io.workstream.testing.Messages.subscribe;
import static io.workstream.testing.Messages.subscribeAfter;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** A subscriber that reads too slowly gets Lagged, keeps its connection, and recovers to exactly 1..n. */
class LaggedSubscriberTest extends SlowSubscriberTest {

  static TestService service;

  @BeforeAll
  static void start() {
    service = TestService.start(smallBuffers(60_000));
  }

  @AfterAll
  static void stop() {
    service.close();
  }

  @Test
  void aSlowReaderIsToldItLaggedAndCatchesUpWithAfterSeq() throws Exception {
    String tenant = newId();
    String project = newId();
    try (WsClient writer = service.connect(tenant, "member");
         WsClient slow = smallClient(service, tenant)) {
      assertTrue(slow.request(subscribe(project)).hasSubscribeAck());
      slow.pause();
      write(writer, project, EVENTS);
      slow.resume();

      List<ChangeEvent> received = new ArrayList<>();
      ServerMessage push = slow.nextPush();
      while (push.hasChangeEvent()) {
        received.add(push.getChangeEvent());
        push = slow.nextPush();
      }
      assertTrue(push.hasLagged(), () -> "expected Lagged, got " + slow);
      ProjectCursor cursor = push.getLagged().getProjects(0);
      assertEquals(project, cursor.getProjectId());
      assertEquals(received.size(), cursor.getAfterSeq(), "the cursor is the last seq it was sent");
      assertTrue(received.size() < EVENTS);
      assertFalse(slow.isClosed(), "a lagging subscriber keeps its connection");

      SubscriptionState state = slow.request(subscribeAfter(project, cursor.getAfterSeq()))
        .getSubscribeAck().getProjects(0);
      assertTrue(state.getRecovered());
      assertEquals(EVENTS - cursor.getAfterSeq(), state.getReplayed());
      received.addAll(slow.events(state.getReplayed()));
      assertEquals(oneTo(EVENTS), seqs(received));

      write(writer, project, 3);
      assertEquals(List.of(EVENTS + 1L, EVENTS + 2L, EVENTS + 3L), seqs(slow.events(3)), "and then live again");
    }
  }
}
