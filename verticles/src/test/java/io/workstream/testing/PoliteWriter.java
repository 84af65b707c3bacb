package io.workstream.testing;

import io.workstream.protocol.v1.ServerMessage;
import io.workstream.protocol.v1.WorkItemAck;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static io.workstream.testing.Messages.create;

/**
 * A client that follows every piece of advice the protocol gives, in a thread of its own: one create at a time,
 * each with a message id; on TIMEOUT it resends the same message id at once, on SERVICE_UNAVAILABLE after its
 * retry_after_ms; anything else, or no answer within {@code answerWithinMs}, is a failure of the service.
 */
public final class PoliteWriter implements AutoCloseable {

  /** An acknowledged create: when it was answered, and what it made. */
  public record Acked(String messageId, long answeredAtMs, WorkItemAck ack) {
  }

  private final WsClient client;
  private final String projectId;
  private final long answerWithinMs;
  private final List<Acked> acked = new CopyOnWriteArrayList<>();
  private final Map<String, AtomicInteger> refusals = new ConcurrentHashMap<>();
  private final List<String> failures = new CopyOnWriteArrayList<>();
  private final Thread thread;
  private volatile boolean stopping;

  public PoliteWriter(WsClient client, String projectId, long answerWithinMs) {
    this.client = client;
    this.projectId = projectId;
    this.answerWithinMs = answerWithinMs;
    this.thread = new Thread(this::run, "polite-writer");
    thread.start();
  }

  private void run() {
    int n = 0;
    while (!stopping) {
      String messageId = UUID.randomUUID().toString();
      String title = "write " + n++;
      while (true) {
        ServerMessage reply;
        try {
          reply = client.sendAsync(create(projectId, title).setMessageId(messageId).build())
            .get(answerWithinMs, TimeUnit.MILLISECONDS);
        } catch (Exception e) {
          failures.add(messageId + ": no answer within " + answerWithinMs + " ms (" + e + ")");
          return;
        }
        if (reply.hasWorkItemAck()) {
          acked.add(new Acked(messageId, System.currentTimeMillis(), reply.getWorkItemAck()));
          break;
        }
        String code = reply.getError().getCode();
        refusals.computeIfAbsent(code, c -> new AtomicInteger()).incrementAndGet();
        if (!code.equals("TIMEOUT") && !code.equals("SERVICE_UNAVAILABLE")) {
          failures.add(messageId + ": " + reply.getError());
          return;
        }
        pause(reply.getError().getRetryAfterMs());
      }
      pause(20);
    }
  }

  /** Stops after the request in hand is acknowledged (or has failed). */
  @Override
  public void close() {
    stopping = true;
    try {
      thread.join(TimeUnit.MINUTES.toMillis(1));
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  public List<Acked> acked() {
    return new ArrayList<>(acked);
  }

  public Map<String, AtomicInteger> refusals() {
    return refusals;
  }

  public List<String> failures() {
    return failures;
  }

  /** The longest time between two consecutive acknowledgements answered after {@code fromMs}. */
  public long longestGapAfter(long fromMs) {
    long previous = fromMs;
    long longest = 0;
    for (Acked a : acked) {
      if (a.answeredAtMs() >= fromMs) {
        longest = Math.max(longest, a.answeredAtMs() - previous);
        previous = a.answeredAtMs();
      }
    }
    return longest;
  }

  public long ackedAfter(long fromMs) {
    return acked.stream().filter(a -> a.answeredAtMs() > fromMs).count();
  }

  private static void pause(long ms) {
    if (ms <= 0) {
      return;
    }
    try {
      Thread.sleep(ms);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
