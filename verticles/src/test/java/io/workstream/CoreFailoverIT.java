package io.workstream;

import io.workstream.protocol.v1.ChangeEvent;
import io.workstream.protocol.v1.ClientMessage;
import io.workstream.protocol.v1.Ping;
import io.workstream.testing.ClusterNode;
import io.workstream.testing.LocalCluster;
import io.workstream.testing.PoliteWriter;
import io.workstream.testing.TestDatabase;
import io.workstream.testing.WsClient;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;
import java.util.stream.Collectors;
import java.util.stream.LongStream;

import static io.workstream.testing.Messages.newId;
import static io.workstream.testing.Messages.subscribe;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Two core nodes and an edge, as separate JVMs. A core node dies (SIGKILL) or hangs (SIGSTOP: no connection reset,
 * like a frozen host or a partition) while a polite client writes through the edge: writes resume within
 * {@link #WRITABLE_AGAIN_MS}, every request is answered (TIMEOUT or SERVICE_UNAVAILABLE, never a hang), resent
 * message ids apply once, and a subscriber ends with exactly seq 1..n, one per acknowledged write.
 */
class CoreFailoverIT extends ProcessTest {

  /** The bound README states: failure detection (5 s) plus the request timeout in flight. */
  static final long WRITABLE_AGAIN_MS = 10_000;
  private static final Duration START = Duration.ofSeconds(120);
  /** The edge's request timeout is 5 s: every request is answered well within this. */
  private static final long ANSWER_WITHIN_MS = 8_000;

  @Test
  @Timeout(value = 5, unit = TimeUnit.MINUTES)
  void aKilledCoreNodeCostsAFewTimeoutsAndNothingElse() throws Exception {
    failover(ClusterNode::kill, null);
  }

  @Test
  @Timeout(value = 5, unit = TimeUnit.MINUTES)
  void aFrozenCoreNodeIsLeftBehindAndItsLateCommitsApplyNothingTwice() throws Exception {
    failover(ClusterNode::freeze, ClusterNode::thaw);
  }

  private void failover(Consumer<ClusterNode> fail, Consumer<ClusterNode> heal) throws Exception {
    String tenant = newId();
    String project = newId();
    try (LocalCluster cluster = LocalCluster.create(TestDatabase.shared())) {
      ClusterNode victim = cluster.start("core-1", LocalCluster.CORE).awaitReady(START);
      cluster.start("core-2", LocalCluster.CORE);
      ClusterNode edge = cluster.start("edge-1", LocalCluster.EDGE);
      cluster.awaitReady(START);
      try (WsClient watcher = connect(edge.port, tenant, "watcher", "viewer");
           WsClient writing = connect(edge.port, tenant, "writer", "member")) {
        assertTrue(watcher.request(subscribe(project)).hasSubscribeAck());
        PoliteWriter writer = new PoliteWriter(writing, project, ANSWER_WITHIN_MS);
        long failedAt;
        try (writer) {
          await(() -> writer.acked().size() >= 30 || !writer.failures().isEmpty(), 60_000);
          failedAt = System.currentTimeMillis();
          fail.accept(victim);
          await(() -> writer.ackedAfter(failedAt + WRITABLE_AGAIN_MS) >= 20 || !writer.failures().isEmpty(), 60_000);
          if (heal != null) {
            heal.accept(victim);
            // Writes go on while the healed node comes back (or stays out).
            long healedAt = System.currentTimeMillis();
            await(() -> writer.ackedAfter(healedAt) >= 30 || !writer.failures().isEmpty(), 60_000);
          }
        }
        assertEquals(List.of(), writer.failures(), "every request answered, and only with retryable codes");
        List<PoliteWriter.Acked> acked = writer.acked();
        long firstAfter = acked.stream().mapToLong(PoliteWriter.Acked::answeredAtMs).filter(t -> t > failedAt)
          .min().orElseThrow() - failedAt;
        long gap = writer.longestGapAfter(failedAt);
        System.out.printf("core failover: first write acknowledged %d ms after the failure, longest gap %d ms, "
          + "refusals %s, %d writes%n", firstAfter, gap, writer.refusals(), acked.size());
        assertTrue(gap <= WRITABLE_AGAIN_MS, "writable again within the bound: longest gap " + gap + " ms");

        long n = acked.size();
        Set<Long> seqs = acked.stream().map(a -> a.ack().getSeq()).collect(Collectors.toSet());
        assertEquals(n, seqs.size(), "each acknowledged write has a seq of its own");
        long stored = ((Number) TestDatabase.shared().queryValue(
          "SELECT count(*) FROM work_items WHERE tenant_id = ? AND project_id = ?::uuid", tenant, project)).longValue();
        assertEquals(n, stored, "each message id applied exactly once");
        List<Long> seen = watcher.events((int) n).stream().map(ChangeEvent::getSeq).toList();
        assertEquals(LongStream.rangeClosed(1, n).boxed().toList(), seen, "the subscriber sees 1..n in order");
        watcher.request(ClientMessage.newBuilder().setPing(Ping.getDefaultInstance()));
        assertEquals(List.of(), watcher.drainPushes(), "and nothing else");
      }
    }
  }

  private static void await(BooleanSupplier condition, long timeoutMs) throws InterruptedException {
    long deadline = System.currentTimeMillis() + timeoutMs;
    while (!condition.getAsBoolean()) {
      if (System.currentTimeMillis() > deadline) {
        throw new AssertionError("not within " + timeoutMs + " ms");
      }
      Thread.sleep(50);
    }
  }
}
