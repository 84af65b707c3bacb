package io.workstream;

import io.workstream.protocol.v1.ChangeEvent;
import io.workstream.protocol.v1.ClientMessage;
import io.workstream.protocol.v1.ServerMessage;
import io.workstream.testing.WsClient;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.stream.LongStream;

import static io.workstream.testing.Messages.create;
import static io.workstream.testing.Messages.newId;
import static io.workstream.testing.Messages.subscribe;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Concurrent writers on one project: seqs 1..n with no gap or repeat, seen by every subscriber in order. */
class SequenceTest extends SharedServiceTest {


  @Test
  void concurrentWritersGetGapFreeSeqsThatSubscribersSeeInOrder() throws Exception {
    int writers = 4;
    int perWriter = 40;
    int total = writers * perWriter;
    String tenant = newId();
    String project = newId();
    List<WsClient> clients = new ArrayList<>();
    try {
      List<WsClient> subscribers = new ArrayList<>();
      for (int i = 0; i < 3; i++) {
        WsClient s = service.connect(tenant, "viewer");
        clients.add(s);
        subscribers.add(s);
        assertTrue(s.request(subscribe(project)).hasSubscribeAck());
      }
      List<CompletableFuture<ServerMessage>> acks = new ArrayList<>();
      for (int w = 0; w < writers; w++) {
        WsClient writer = service.connect(tenant, "member");
        clients.add(writer);
        for (int i = 0; i < perWriter; i++) {
          ClientMessage request = create(project, "w" + w + "-" + i).setMessageId(newId()).build();
          acks.add(writer.sendPolitely(request));
        }
      }
      List<Long> ackedSeqs = new ArrayList<>();
      for (CompletableFuture<ServerMessage> ack : acks) {
        ServerMessage reply = ack.get(30, TimeUnit.SECONDS);
        assertTrue(reply.hasWorkItemAck(), reply::toString);
        ackedSeqs.add(reply.getWorkItemAck().getSeq());
      }
      List<Long> expected = LongStream.rangeClosed(1, total).boxed().toList();
      assertEquals(expected, ackedSeqs.stream().sorted().toList(), "every seq given out once");
      for (WsClient s : subscribers) {
        assertEquals(expected, s.events(total).stream().map(ChangeEvent::getSeq).toList());
      }
    } finally {
      clients.forEach(WsClient::close);
    }
  }
}
