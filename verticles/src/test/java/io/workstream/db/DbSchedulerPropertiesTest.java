package io.workstream.db;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.workstream.bus.ErrorCode;
import io.workstream.bus.WorkstreamException;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.quicktheories.QuickTheory.qt;
import static org.quicktheories.generators.SourceDSL.integers;
import static org.quicktheories.generators.SourceDSL.longs;

/**
 * The scheduler's rules for every mix of tenants, submissions and completions: never more operations running than
 * connections; a tenant starts one beyond its share only while no other tenant has work, and never takes the last
 * share; each tenant's operations start in the order they came;
 * every operation ends exactly once (run or shed with SERVICE_UNAVAILABLE and a retry_after_ms); and a tenant
 * waiting behind another tenant's backlog gets the next free connection.
 */
class DbSchedulerPropertiesTest {

  private static final long NO_WAIT_LIMIT = 3_600_000;

  @Test
  void limitsOrderAndExactlyOnceHoldForEveryMix() {
    qt().withExamples(500).forAll(integers().between(1, 8), integers().between(1, 8), integers().between(1, 40),
        longs().all())
      .checkAssert((connections, perTenant, queuePerTenant, seed) -> {
        Random random = new Random(seed);
        int tenants = 1 + random.nextInt(5);
        DbScheduler scheduler = new DbScheduler(new DbScheduler.Limits(connections, perTenant, 4 * queuePerTenant,
          queuePerTenant, NO_WAIT_LIMIT), new SimpleMeterRegistry());
        List<Running> running = new ArrayList<>();
        Map<String, List<Integer>> started = new HashMap<>();
        Map<String, List<Integer>> accepted = new HashMap<>();
        int[] ended = new int[1];
        int submitted = 0;
        for (int step = 0; step < 300; step++) {
          if (running.isEmpty() || random.nextInt(3) > 0) {
            String tenant = "t" + random.nextInt(tenants);
            int number = submitted++;
            Future<String> outcome = scheduler.submit(tenant, () -> {
              long holding = running.stream().filter(op -> op.tenant().equals(tenant)).count();
              if (holding >= perTenant) {
                assertTrue(holding < connections - perTenant, "a share stays free for other tenants");
                assertTrue(running.stream().allMatch(op -> op.tenant().equals(tenant))
                    && accepted.keySet().stream().filter(t -> !t.equals(tenant)).allMatch(t ->
                      accepted.get(t).size() == started.getOrDefault(t, List.of()).size()),
                  "beyond its share only while no other tenant has work");
              }
              started.computeIfAbsent(tenant, t -> new ArrayList<>()).add(number);
              Promise<String> operation = Promise.promise();
              running.add(new Running(tenant, operation));
              return operation.future();
            });
            if (!outcome.failed()) {
              accepted.computeIfAbsent(tenant, t -> new ArrayList<>()).add(number);
            }
            outcome.onComplete(done -> ended[0]++, failure -> {
              WorkstreamException shed = (WorkstreamException) failure;
              assertEquals(ErrorCode.SERVICE_UNAVAILABLE, shed.code());
              assertTrue(shed.retryAfterMs() > 0);
              ended[0]++;
            });
          } else {
            running.remove(random.nextInt(running.size())).operation().complete("done");
          }
          assertEquals(running.size(), scheduler.inFlight());
          assertTrue(running.size() <= connections, "at most one operation per connection");
          Map<String, Integer> perTenantRunning = new HashMap<>();
          running.forEach(op -> perTenantRunning.merge(op.tenant(), 1, Integer::sum));
          perTenantRunning.values().forEach(count ->
            assertTrue(count <= Math.max(perTenant, connections - perTenant), "never the last share"));
        }
        while (!running.isEmpty()) {
          running.remove(0).operation().complete("done");
        }
        assertEquals(0, scheduler.queued());
        assertEquals(submitted, ended[0], "every operation ends exactly once");
        assertEquals(accepted, started, "each tenant's accepted operations all ran, in the order they came");
      });
  }

  @Test
  void aTenantBehindAnotherTenantsBacklogGetsTheNextFreeConnection() {
    Operations ops = new Operations(new DbScheduler.Limits(2, 2, 1_000, 500, NO_WAIT_LIMIT));
    for (int i = 0; i < 200; i++) {
      ops.submit("flood");
    }
    ops.submit("quiet");
    assertEquals(List.of("flood", "flood"), ops.starts);
    ops.running.remove(0).complete("done");
    assertEquals("quiet", ops.starts.get(2), "the quiet tenant's write goes before the flood's 198 waiting ones");
  }

  @Test
  void aTenantAloneLeavesOneShareFreeAndGoesBackToItsShareWhenAnotherComes() {
    Operations ops = new Operations(new DbScheduler.Limits(8, 2, 1_000, 500, NO_WAIT_LIMIT));
    for (int i = 0; i < 100; i++) {
      ops.submit("flood");
    }
    assertEquals(6, ops.scheduler.inFlight(), "alone, all but one share");
    for (int i = 0; i < 10; i++) {
      ops.submit("other");
    }
    assertEquals(8, ops.scheduler.inFlight(), "another tenant starts at once, on the share left free");
    for (int i = 0; i < 4; i++) {
      ops.running.remove(0).complete("done");
    }
    assertEquals(8, ops.starts.size(), "while the other has work, the flood starts nothing above its share");
    assertEquals(4, ops.scheduler.inFlight());
    ops.running.remove(0).complete("done");
    assertEquals("flood", ops.starts.get(8), "and starts again once below it");
  }

  @Test
  void whatCannotStartSoonIsShedAtOnceWithTheTimeTheQueueNeeds() {
    Operations ops = new Operations(new DbScheduler.Limits(1, 1, 1_000, 3, NO_WAIT_LIMIT));
    List<Future<String>> outcomes = new ArrayList<>();
    for (int i = 0; i < 5; i++) {
      outcomes.add(ops.submit("t"));
    }
    assertEquals(1, ops.scheduler.inFlight());
    assertEquals(3, ops.scheduler.queued());
    Future<String> shed = outcomes.get(4);
    assertTrue(shed.failed(), "the fifth of one running and three waiting is refused without waiting");
    assertEquals(ErrorCode.SERVICE_UNAVAILABLE, ((WorkstreamException) shed.cause()).code());
    assertTrue(((WorkstreamException) shed.cause()).retryAfterMs() >= 10);
  }

  private record Running(String tenant, Promise<String> operation) {
  }

  /** A scheduler whose operations run until the test completes them; records which tenant started when. */
  private static final class Operations {
    final DbScheduler scheduler;
    final List<Promise<String>> running = new ArrayList<>();
    final List<String> starts = new ArrayList<>();

    Operations(DbScheduler.Limits limits) {
      scheduler = new DbScheduler(limits, new SimpleMeterRegistry());
    }

    Future<String> submit(String tenant) {
      return scheduler.submit(tenant, () -> {
        starts.add(tenant);
        Promise<String> operation = Promise.promise();
        running.add(operation);
        return operation.future();
      });
    }
  }
}
