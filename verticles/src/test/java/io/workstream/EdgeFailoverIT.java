package io.workstream;

import io.workstream.protocol.v1.ChangeEvent;
import io.workstream.protocol.v1.ServerMessage;
import io.workstream.testing.ClusterNode;
import io.workstream.testing.LocalCluster;
import io.workstream.testing.PoliteWriter;
import io.workstream.testing.TestDatabase;
import io.workstream.testing.WsClient;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.LongStream;

import static io.workstream.testing.Messages.newId;
import static io.workstream.testing.Messages.subscribeAfter;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Two edges and a core, as separate JVMs. The edge a subscriber is connected to dies mid-stream (SIGKILL); the
 * subscriber reconnects to the other edge with {@code after_seq} = the last seq it has, and what it received before
 * and after is exactly 1..n, once each.
 */
class EdgeFailoverIT extends ProcessTest {

  private static final Duration START = Duration.ofSeconds(120);

  @Test
  @Timeout(value = 5, unit = TimeUnit.MINUTES)
  void aSubscriberOfAKilledEdgeResumesOnTheOtherWithoutLosingAnEvent() throws Exception {
    String tenant = newId();
    String project = newId();
    try (LocalCluster cluster = LocalCluster.create(TestDatabase.shared())) {
      cluster.start("core-1", LocalCluster.CORE).awaitReady(START);
      ClusterNode survivor = cluster.start("edge-1", LocalCluster.EDGE);
      ClusterNode victim = cluster.start("edge-2", LocalCluster.EDGE);
      cluster.awaitReady(START);
      List<Long> received = new ArrayList<>();
      try (WsClient writing = connect(survivor.port, tenant, "writer", "member")) {
        PoliteWriter writer = new PoliteWriter(writing, project, 8_000);
        long reconnectMs;
        try (writer) {
          WsClient watcher = connect(victim.port, tenant, "watcher", "viewer");
          // The writer is already at it: catch up from the start, then live.
          assertTrue(watcher.request(subscribeAfter(project, 0)).hasSubscribeAck());
          for (int i = 0; i < 20; i++) {
            received.add(watcher.nextEvent().getSeq());
          }
          victim.kill();
          long killedAt = System.currentTimeMillis();
          watcher.awaitClose();
          watcher.drainPushes().stream().filter(ServerMessage::hasChangeEvent)
            .forEach(push -> received.add(push.getChangeEvent().getSeq()));
          watcher.close();
          long cursor = received.get(received.size() - 1);
          WsClient resumed = connect(survivor.port, tenant, "watcher", "viewer");
          ServerMessage ack = resumed.request(subscribeAfter(project, cursor));
          assertTrue(ack.getSubscribeAck().getProjects(0).getRecovered(), ack::toString);
          reconnectMs = System.currentTimeMillis() - killedAt;
          long upTo = ack.getSubscribeAck().getProjects(0).getCurrentSeq() + 20;
          while (received.get(received.size() - 1) < upTo) {
            ChangeEvent event = resumed.nextEvent();
            received.add(event.getSeq());
          }
          resumed.close();
        }
        assertEquals(List.of(), writer.failures());
        System.out.printf("edge failover: resubscribed on the other edge %d ms after the kill%n", reconnectMs);
      }
      long last = received.get(received.size() - 1);
      assertEquals(LongStream.rangeClosed(1, last).boxed().toList(), received, "1..n, each once, in order");
    }
  }
}
