package io.workstream;

import io.workstream.protocol.v1.ChangeEvent;
import io.workstream.protocol.v1.ClientMessage;
import io.workstream.protocol.v1.ServerMessage;
import io.workstream.protocol.v1.UpdateWorkItem;
import io.workstream.protocol.v1.WorkItem;
import io.workstream.protocol.v1.WorkItemAck;
import io.workstream.testing.WsClient;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static io.workstream.RulesTest.assertError;
import static io.workstream.WorkItemLifecycleTest.createItem;
import static io.workstream.testing.Messages.create;
import static io.workstream.testing.Messages.delete;
import static io.workstream.testing.Messages.get;
import static io.workstream.testing.Messages.newId;
import static io.workstream.testing.Messages.subscribe;
import static io.workstream.testing.Messages.update;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** A resent message id returns the stored reply with replayed = true and changes nothing. */
class IdempotencyTest extends SharedServiceTest {


  @Test
  void aResentCreateReturnsTheSameItemAndSeqWithoutASecondEvent() {
    String tenant = newId();
    String project = newId();
    try (WsClient client = service.connectAs(tenant, "alice", "member")) {
      assertTrue(client.request(subscribe(project)).hasSubscribeAck());
      String messageId = newId();
      WorkItemAck first = client.request(create(project, "once").setMessageId(messageId)).getWorkItemAck();
      WorkItemAck again = client.request(create(project, "once").setMessageId(messageId)).getWorkItemAck();
      assertFalse(first.getReplayed());
      assertTrue(again.getReplayed());
      assertEquals(first.getItem(), again.getItem());
      assertEquals(first.getSeq(), again.getSeq());

      WorkItemAck next = client.request(create(project, "next")).getWorkItemAck();
      List<ChangeEvent> events = client.events(2);
      assertEquals(List.of(1L, 2L), events.stream().map(ChangeEvent::getSeq).toList());
      assertEquals(next.getSeq(), events.get(1).getSeq());
      assertEquals(2, client.request(get(project)).getWorkItemList().getItemsCount());
    }
  }

  @Test
  void aMessageIdReusedForADifferentRequestIsRefusedAndChangesNothing() {
    String project = newId();
    try (WsClient client = service.connectAs(newId(), "carol", "member")) {
      String messageId = newId();
      WorkItemAck first = client.request(create(project, "the first use").setMessageId(messageId)).getWorkItemAck();
      ServerMessage reused = client.request(create(project, "something else").setMessageId(messageId));
      assertEquals("VALIDATION_ERROR", reused.getError().getCode(), reused::toString);
      assertEquals("message_id", reused.getError().getField());
      List<WorkItem> items = client.request(get(project)).getWorkItemList().getItemsList();
      assertEquals(List.of(first.getItem()), items, "nothing changed");
      assertTrue(client.request(create(project, "the first use").setMessageId(messageId)).getWorkItemAck()
        .getReplayed(), "the same request still replays");
    }
  }

  @Test
  void resentUpdatesAndDeletesReplayTheirReplies() {
    try (WsClient client = service.connectAs(newId(), "bob", "member")) {
      WorkItem item = createItem(client, newId(), "v1", "");
      String updateId = newId();
      ClientMessage.Builder rename = update(UpdateWorkItem.newBuilder().setWorkItemId(item.getId())
        .setExpectedVersion(1).setTitle("v2")).setMessageId(updateId);
      WorkItemAck updated = client.request(rename.clone()).getWorkItemAck();
      WorkItemAck replayed = client.request(rename.clone()).getWorkItemAck();
      assertTrue(replayed.getReplayed(), "not a CONFLICT: the same request already applied");
      assertEquals(updated.getItem(), replayed.getItem());
      assertEquals(updated.getSeq(), replayed.getSeq());

      String deleteId = newId();
      WorkItemAck deleted = client.request(delete(item.getId()).setMessageId(deleteId)).getWorkItemAck();
      WorkItemAck deletedAgain = client.request(delete(item.getId()).setMessageId(deleteId)).getWorkItemAck();
      assertTrue(deletedAgain.getReplayed(), "not NOT_FOUND: the same request already applied");
      assertEquals(deleted.getDeletedId(), deletedAgain.getDeletedId());
      assertEquals(deleted.getSeq(), deletedAgain.getSeq());
    }
  }

  @Test
  void concurrentCopiesOfOneRequestApplyOnce() throws Exception {
    String project = newId();
    try (WsClient client = service.connectAs(newId(), "carol", "member")) {
      ClientMessage request = create(project, "burst").setMessageId(newId()).build();
      CompletableFuture<ServerMessage> firstReply = client.sendAsync(request);
      for (int i = 1; i < 5; i++) {
        client.sendBinary(io.vertx.core.buffer.Buffer.buffer(request.toByteArray()));
      }
      List<WorkItemAck> acks = new ArrayList<>();
      acks.add(firstReply.get(15, TimeUnit.SECONDS).getWorkItemAck());
      for (int i = 1; i < 5; i++) {
        ServerMessage copy = client.nextAnonymous();
        assertEquals(request.getMessageId(), copy.getMessageId());
        acks.add(copy.getWorkItemAck());
      }
      assertEquals(1, acks.stream().map(ack -> ack.getItem().getId()).distinct().count());
      assertEquals(List.of(1L), acks.stream().map(WorkItemAck::getSeq).distinct().toList());
      assertEquals(4, acks.stream().filter(WorkItemAck::getReplayed).count());
      assertEquals(1, client.request(get(project)).getWorkItemList().getItemsCount());
    }
  }

  @Test
  void keysBelongToOneUserAndFailedRequestsAreNotRemembered() {
    String tenant = newId();
    String project = newId();
    String messageId = newId();
    try (WsClient alice = service.connectAs(tenant, "alice", "member");
         WsClient bob = service.connectAs(tenant, "bob", "member")) {
      assertError("VALIDATION_ERROR", alice.request(create(project, "").setMessageId(messageId)));
      WorkItemAck aliceAck = alice.request(create(project, "alice's").setMessageId(messageId)).getWorkItemAck();
      assertFalse(aliceAck.getReplayed(), "a failed request stores nothing under its key");
      WorkItemAck bobAck = bob.request(create(project, "bob's").setMessageId(messageId)).getWorkItemAck();
      assertFalse(bobAck.getReplayed());
      assertNotEquals(aliceAck.getItem().getId(), bobAck.getItem().getId());
      assertEquals(2, alice.request(get(project)).getWorkItemList().getItemsCount());
    }
  }

  @Test
  void requestsWithoutMessageIdAreNotIdempotentButStillCorrelated() {
    String project = newId();
    try (WsClient client = service.connect(newId(), "member")) {
      ClientMessage anonymous = create(project, "twice").build();
      client.sendBinary(io.vertx.core.buffer.Buffer.buffer(anonymous.toByteArray()));
      client.sendBinary(io.vertx.core.buffer.Buffer.buffer(anonymous.toByteArray()));
      ServerMessage one = client.nextAnonymous();
      ServerMessage two = client.nextAnonymous();
      assertTrue(one.hasWorkItemAck() && two.hasWorkItemAck());
      assertFalse(one.getCorrelationId().isEmpty());
      assertNotEquals(one.getCorrelationId(), two.getCorrelationId());
      assertEquals(2, client.request(get(project)).getWorkItemList().getItemsCount());
    }
  }
}
