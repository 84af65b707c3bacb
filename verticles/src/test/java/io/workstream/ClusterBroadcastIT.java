package io.workstream;

import io.workstream.protocol.v1.ChangeEvent;
import io.workstream.protocol.v1.ClientMessage;
import io.workstream.protocol.v1.Ping;
import io.workstream.protocol.v1.ServerMessage;
import io.workstream.testing.ClusterNode;
import io.workstream.testing.LocalCluster;
import io.workstream.testing.TestDatabase;
import io.workstream.testing.WsClient;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.time.Duration;
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

/**
 * Three JVMs clustered over Hazelcast on loopback — two edges and a core — on one database: writers on edge 1,
 * subscribers on edge 2. Every acknowledged create reaches every subscriber exactly once, in seq order.
 */
class ClusterBroadcastIT extends ProcessTest {

  static final List<String> EDGE = LocalCluster.EDGE;
  static final List<String> CORE = LocalCluster.CORE;

  static final Duration START = Duration.ofSeconds(120);

  @Test
  @Timeout(value = 5, unit = TimeUnit.MINUTES)
  void writesThroughOneEdgeReachSubscribersOnAnotherExactlyOnceInOrder() throws Exception {
    int writers = 2;
    int perWriter = 50;
    int total = writers * perWriter;
    String tenant = newId();
    String project = newId();
    List<WsClient> clients = new ArrayList<>();
    try (LocalCluster cluster = LocalCluster.create(TestDatabase.shared())) {
      // The core first: it migrates the schema and holds the handlers the edges send to.
      cluster.start("core-1", CORE).awaitReady(START);
      ClusterNode writeEdge = cluster.start("edge-1", EDGE);
      ClusterNode readEdge = cluster.start("edge-2", EDGE);
      cluster.awaitReady(START);

      List<WsClient> subscribers = new ArrayList<>();
      for (int i = 0; i < 3; i++) {
        WsClient s = connect(readEdge.port, tenant, "viewer-" + i, "viewer");
        clients.add(s);
        subscribers.add(s);
        ServerMessage ack = s.request(subscribe(project));
        assertTrue(ack.hasSubscribeAck(), () -> "subscribe on " + readEdge + ": " + ack + "\n" + cluster.logs());
      }

      List<CompletableFuture<ServerMessage>> acks = new ArrayList<>();
      for (int w = 0; w < writers; w++) {
        WsClient writer = connect(writeEdge.port, tenant, "writer-" + w, "member");
        clients.add(writer);
        for (int i = 0; i < perWriter; i++) {
          acks.add(writer.sendPolitely(create(project, "w" + w + "-" + i).setMessageId(newId()).build()));
        }
      }
      List<Long> ackedSeqs = new ArrayList<>();
      for (CompletableFuture<ServerMessage> ack : acks) {
        ServerMessage reply = ack.get(30, TimeUnit.SECONDS);
        assertTrue(reply.hasWorkItemAck(), () -> reply + "\n" + cluster.logs());
        ackedSeqs.add(reply.getWorkItemAck().getSeq());
      }
      List<Long> expected = LongStream.rangeClosed(1, total).boxed().toList();
      assertEquals(expected, ackedSeqs.stream().sorted().toList(), "every seq given out once");

      for (WsClient s : subscribers) {
        assertEquals(expected, s.events(total).stream().map(ChangeEvent::getSeq).toList(), "in order, none missing");
      }
      // Exactly once: nothing more arrived once the last event was in (a ping's answer comes after any of it).
      for (WsClient s : subscribers) {
        s.request(ClientMessage.newBuilder().setPing(Ping.getDefaultInstance()));
        List<Long> extra = s.drainPushes().stream().filter(ServerMessage::hasChangeEvent)
          .map(m -> m.getChangeEvent().getSeq()).toList();
        assertEquals(List.of(), extra, "no event delivered twice");
      }
    } finally {
      clients.forEach(WsClient::close);
    }
  }
}
