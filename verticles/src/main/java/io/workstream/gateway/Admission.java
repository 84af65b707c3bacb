package io.workstream.gateway;

import io.github.bucket4j.Bandwidth;
import io.github.bucket4j.Bucket;
import io.github.bucket4j.ConsumptionProbe;
import io.github.bucket4j.local.SynchronizationStrategy;
import io.workstream.bus.ErrorCode;
import io.workstream.bus.WorkstreamException;
import io.workstream.protocol.v1.ClientMessage;

import java.time.Duration;
import java.util.HashMap;
import java.util.Map;

/**
 * How much one connection may ask of the node: a token bucket over its messages, and a cap on its requests
 * unanswered. Confined to the connection's event loop.
 *
 * <p>A refused message that carries a message id gets a token set aside for it, at the time its
 * {@code retry_after_ms} names: resent then, it is accepted — a client that follows the advice is never refused
 * twice for the same message and never cut off. What counts against a connection ("strikes", more than
 * {@code maxRejections} in {@code abuseWindowMs} close it) is only what ignores the advice: a message resent before
 * its time, or a refusal when the connection already has as many messages waiting for their token as it may have
 * unanswered requests.
 */
final class Admission {

  /** What a client that has too many requests unanswered is told to wait before sending another. */
  private static final long IN_FLIGHT_RETRY_AFTER_MS = 100;

  private final GatewayConfig.RateLimit rate;
  private final int maxInFlight;
  private final Bucket bucket;
  /** Message id → when the token set aside for it is there (ms). */
  private final Map<String, Long> reserved = new HashMap<>();
  private long strikeWindowStartMs;
  private int strikesInWindow;
  private int inFlight;

  Admission(GatewayConfig.RateLimit rate, int maxInFlight) {
    this.rate = rate;
    this.maxInFlight = maxInFlight;
    this.bucket = Bucket.builder()
      .addLimit(Bandwidth.builder().capacity(rate.burst())
        .refillGreedy(rate.messagesPerSecond(), Duration.ofSeconds(1)).build())
      .withSynchronizationStrategy(SynchronizationStrategy.NONE)
      .build();
  }

  /**
   * The tokens a message costs: one, but a Subscribe or Unsubscribe one per {@code projectsPerToken} projects it
   * names (each project subscribed to may cost the database a history read), never more than the burst (or it could
   * never be accepted).
   */
  int cost(ClientMessage message) {
    int projects = switch (message.getPayloadCase()) {
      case SUBSCRIBE -> message.getSubscribe().getProjectsCount();
      case UNSUBSCRIBE -> message.getUnsubscribe().getProjectIdsCount();
      default -> 0;
    };
    int perToken = Math.max(1, rate.projectsPerToken());
    return (int) Math.max(1, Math.min(rate.burst(), (projects + (long) perToken - 1) / perToken));
  }

  /**
   * Takes {@code cost} tokens for one inbound message: null when it may be processed, otherwise the RATE_LIMITED to
   * refuse it with, saying when it will be accepted (the tokens are set aside for it then).
   */
  WorkstreamException overRate(String messageId, int cost) {
    long now = System.currentTimeMillis();
    Long readyAt = messageId.isEmpty() ? null : reserved.get(messageId);
    if (readyAt != null) {
      if (now >= readyAt) {
        reserved.remove(messageId);
        return null;
      }
      strike(now);
      return limited(readyAt - now);
    }
    ConsumptionProbe probe = bucket.tryConsumeAndReturnRemaining(cost);
    if (probe.isConsumed()) {
      return null;
    }
    forgetUnclaimed(now);
    if (!messageId.isEmpty() && reserved.size() < maxInFlight) {
      long waitMs = Math.max(1, toMillis(bucket.consumeIgnoringRateLimits(cost)));
      reserved.put(messageId, now + waitMs);
      return limited(waitMs);
    }
    strike(now);
    return limited(Math.max(1, toMillis(probe.getNanosToWaitForRefill())));
  }

  /** The connection ignores the advice it was given: it floods. */
  boolean abusive() {
    return strikesInWindow > rate.maxRejections();
  }

  private void strike(long now) {
    if (now - strikeWindowStartMs > rate.abuseWindowMs()) {
      strikeWindowStartMs = now;
      strikesInWindow = 0;
    }
    strikesInWindow++;
  }

  /** Tokens set aside for messages never resent are spent (the client lost them), not kept forever. */
  private void forgetUnclaimed(long now) {
    reserved.values().removeIf(readyAt -> now - readyAt > rate.abuseWindowMs());
  }

  private WorkstreamException limited(long retryAfterMs) {
    return new WorkstreamException(ErrorCode.RATE_LIMITED,
      "more than " + rate.messagesPerSecond() + " messages per second", "", retryAfterMs);
  }

  private static long toMillis(long nanos) {
    return (nanos + 999_999) / 1_000_000;
  }

  /**
   * Claims a slot for a request about to be processed: null when it got one (give it back with {@link #answered()}),
   * otherwise the RATE_LIMITED to refuse the request with.
   */
  WorkstreamException claimInFlight() {
    if (inFlight >= maxInFlight) {
      return new WorkstreamException(ErrorCode.RATE_LIMITED,
        "more than " + maxInFlight + " requests unanswered", "", IN_FLIGHT_RETRY_AFTER_MS);
    }
    inFlight++;
    return null;
  }

  void answered() {
    inFlight--;
  }

  /** No request is waiting for its answer. */
  boolean idle() {
    return inFlight == 0;
  }
}
