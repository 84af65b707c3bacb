package io.workstream;

import io.workstream.protocol.v1.ClientMessage;
import io.workstream.protocol.v1.ProjectCursor;
import io.workstream.protocol.v1.ServerMessage;
import io.workstream.protocol.v1.Subscribe;
import io.workstream.protocol.v1.Unsubscribe;
import io.workstream.testing.TestService;
import io.workstream.testing.WsClient;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static io.workstream.testing.Messages.newId;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A Subscribe (or Unsubscribe) costs rate tokens by the projects it names (default limits: 50/s, burst 100, four
 * projects a token), so re-subscribing to a hundred projects in a loop is refused — and a client that waits the
 * retry_after_ms it is told is still never cut off.
 */
class SubscribeCostTest {

  static final TestService service = TestService.shared();

  @Test
  void reSubscribingToManyProjectsInALoopIsRateLimited() {
    List<String> projects = projects(100);
    try (WsClient client = service.connect(newId(), "viewer")) {
      int refused = 0;
      for (int i = 0; i < 8; i++) {
        ServerMessage reply = client.request(subscribe(projects).setMessageId(newId()));
        if (reply.hasError()) {
          assertEquals("RATE_LIMITED", reply.getError().getCode(), reply::toString);
          assertTrue(reply.getError().getRetryAfterMs() > 0);
          refused++;
        } else {
          assertTrue(reply.hasSubscribeAck(), reply::toString);
        }
      }
      // 8 Subscribes of 100 projects cost 200 tokens: more than the burst and what refills meanwhile.
      assertTrue(refused > 0, "eight Subscribes of a hundred projects were all accepted");

      int unsubscribeRefused = 0;
      for (int i = 0; i < 8; i++) {
        ServerMessage reply = client.request(ClientMessage.newBuilder().setMessageId(newId())
          .setUnsubscribe(Unsubscribe.newBuilder().addAllProjectIds(projects)));
        if (reply.hasError()) {
          assertEquals("RATE_LIMITED", reply.getError().getCode(), reply::toString);
          unsubscribeRefused++;
        }
      }
      assertTrue(unsubscribeRefused > 0, "eight Unsubscribes of a hundred projects were all accepted");
    }
  }

  @Test
  void aClientThatWaitsAsToldKeepsReSubscribingAndIsNeverCutOff() throws Exception {
    List<String> projects = projects(100);
    try (WsClient client = service.connect(newId(), "viewer")) {
      int refused = 0;
      for (int i = 0; i < 12; i++) {
        ClientMessage.Builder request = subscribe(projects).setMessageId(newId());
        ServerMessage reply = client.request(request);
        while (reply.hasError()) {
          assertEquals("RATE_LIMITED", reply.getError().getCode(), reply::toString);
          refused++;
          TimeUnit.MILLISECONDS.sleep(reply.getError().getRetryAfterMs());
          ServerMessage again = client.request(request);
          assertTrue(again.hasSubscribeAck(), () -> "refused again after waiting as told: " + again);
          reply = again;
        }
        assertEquals(100, reply.getSubscribeAck().getProjectsCount());
      }
      assertTrue(refused > 0, "the loop was never refused");
      assertFalse(client.isClosed());
    }
  }

  private static List<String> projects(int count) {
    List<String> projects = new ArrayList<>();
    for (int i = 0; i < count; i++) {
      projects.add(newId());
    }
    return projects;
  }

  private static ClientMessage.Builder subscribe(List<String> projects) {
    Subscribe.Builder subscribe = Subscribe.newBuilder();
    projects.forEach(p -> subscribe.addProjects(ProjectCursor.newBuilder().setProjectId(p)));
    return ClientMessage.newBuilder().setSubscribe(subscribe);
  }
}
