package io.workstream;

import io.workstream.protocol.v1.ChangeEvent;
import io.workstream.protocol.v1.ClientMessage;
import io.workstream.protocol.v1.ServerMessage;
import io.workstream.protocol.v1.Subscribe;
import io.workstream.protocol.v1.ProjectCursor;
import io.workstream.protocol.v1.Unsubscribe;
import io.workstream.testing.WsClient;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static io.workstream.testing.Messages.create;
import static io.workstream.testing.Messages.newId;
import static io.workstream.testing.Messages.subscribe;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Changes reach exactly the subscribers of their tenant and project, the requester included. Absence is proved
 * with a sentinel: a later change the same client does receive, which could not overtake an earlier leak.
 */
class BroadcastTest extends SharedServiceTest {


  @Test
  void everySubscriberOfTheTenantsProjectGetsTheEventAndNobodyElse() {
    String tenant = newId();
    String otherTenant = newId();
    String project = newId();
    String otherProject = newId();
    List<WsClient> clients = new ArrayList<>();
    try {
      WsClient writer = track(clients, service.connect(tenant, "member"));
      List<WsClient> watchers = new ArrayList<>();
      for (int i = 0; i < 6; i++) {
        watchers.add(track(clients, service.connect(tenant, "viewer")));
      }
      WsClient foreign = track(clients, service.connect(otherTenant, "member"));
      WsClient elsewhere = track(clients, service.connect(tenant, "viewer"));
      for (WsClient c : List.of(writer, foreign)) {
        assertTrue(c.request(subscribe(project)).hasSubscribeAck());
      }
      for (WsClient c : watchers) {
        assertTrue(c.request(subscribe(project)).hasSubscribeAck());
      }
      assertTrue(elsewhere.request(subscribe(otherProject)).hasSubscribeAck());

      String messageId = newId();
      ServerMessage ack = writer.request(create(project, "for the team").setMessageId(messageId));
      for (WsClient c : watchers) {
        ChangeEvent event = c.nextEvent();
        assertEquals(messageId, event.getCorrelationId());
        assertEquals(ack.getWorkItemAck().getItem(), event.getCreated());
      }
      ChangeEvent own = writer.nextEvent();
      assertEquals(messageId, own.getCorrelationId(), "the requester recognises its own change");

      // The same project id in another tenant is another project: its change is the only one it sees.
      String sentinel = newId();
      foreign.request(create(project, "theirs").setMessageId(sentinel));
      assertEquals(sentinel, foreign.nextEvent().getCorrelationId());
      writer.request(create(otherProject, "other project"));
      assertTrue(elsewhere.nextEvent().getCreated().getTitle().equals("other project"));
      for (WsClient c : clients) {
        assertTrue(c.drainPushes().isEmpty(), "an event reached a client that does not subscribe to it");
      }
    } finally {
      clients.forEach(WsClient::close);
    }
  }

  @Test
  void unsubscribingStopsTheEventsOfThatProjectOnly() {
    String tenant = newId();
    String left = newId();
    String kept = newId();
    try (WsClient writer = service.connect(tenant, "member");
         WsClient watcher = service.connect(tenant, "viewer")) {
      assertTrue(watcher.request(ClientMessage.newBuilder().setSubscribe(Subscribe.newBuilder()
        .addProjects(ProjectCursor.newBuilder().setProjectId(left))
        .addProjects(ProjectCursor.newBuilder().setProjectId(kept)))).hasSubscribeAck());
      ServerMessage refused = watcher.request(ClientMessage.newBuilder().setUnsubscribe(Unsubscribe.newBuilder()
        .addProjectIds(left).addProjectIds("not-a-project")));
      assertEquals("project_ids", refused.getError().getField(), "a bad id refuses the whole request");
      ServerMessage tooMany = watcher.request(ClientMessage.newBuilder().setUnsubscribe(Unsubscribe.newBuilder()
        .addAllProjectIds(java.util.stream.Stream.generate(() -> newId()).limit(101).toList())));
      assertEquals("project_ids", tooMany.getError().getField(), tooMany::toString);
      writer.request(create(left, "still subscribed"));
      assertEquals("still subscribed", watcher.nextEvent().getCreated().getTitle());

      ServerMessage ack = watcher.request(ClientMessage.newBuilder().setUnsubscribe(Unsubscribe.newBuilder()
        .addProjectIds(left.toUpperCase())));
      assertEquals(List.of(left), ack.getUnsubscribeAck().getProjectIdsList());
      writer.request(create(left, "unseen"));
      writer.request(create(kept, "seen"));
      assertEquals("seen", watcher.nextEvent().getCreated().getTitle());
      assertTrue(watcher.drainPushes().isEmpty());
    }
  }

  @Test
  void aClosedSubscriberReleasesItsSubscriptions() {
    String tenant = newId();
    String project = newId();
    WsClient gone = service.connect(tenant, "viewer");
    assertTrue(gone.request(subscribe(project)).hasSubscribeAck());
    gone.close();
    try (WsClient writer = service.connect(tenant, "member");
         WsClient watcher = service.connect(tenant, "viewer")) {
      assertTrue(watcher.request(subscribe(project)).hasSubscribeAck());
      writer.request(create(project, "after the close"));
      assertEquals(1, watcher.nextEvent().getSeq());
    }
  }

  private static WsClient track(List<WsClient> clients, WsClient client) {
    clients.add(client);
    return client;
  }
}
