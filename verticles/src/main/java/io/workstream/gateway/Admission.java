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

  /**
   * How long after its time a set-aside token waits to be claimed. A message resent later is simply new; a token
   * never claimed goes back, so a client that drops refused messages does not use up its tenant's rate.
   */
  private static final long UNCLAIMED_AFTER_MS = 1_000;

  private record Reservation(long readyAtMs, int cost) {
  }

  /** What a client that has too many requests unanswered is told to wait before sending another. */
  private static final long IN_FLIGHT_RETRY_AFTER_MS = 100;

  private final GatewayConfig.RateLimit rate;
  private final int maxInFlight;
  private final Bucket bucket;
  /** Shared by the tenant's connections on this node. */
  private final Bucket tenantBucket;
  /** Message id → the tokens set aside for it, and when they are there. */
  private final Map<String, Reservation> reserved = new HashMap<>();
  private long strikeWindowStartMs;
  private int strikesInWindow;
  private int inFlight;

  Admission(GatewayConfig.RateLimit rate, int maxInFlight, Bucket tenantBucket) {
    this.rate = rate;
    this.tenantBucket = tenantBucket;
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
    Reservation reservation = messageId.isEmpty() ? null : reserved.get(messageId);
    if (reservation != null) {
      if (now >= reservation.readyAtMs()) {
        reserved.remove(messageId);
        return null;
      }
      strike(now);
      return limited(reservation.readyAtMs() - now);
    }
    ConsumptionProbe probe = bucket.tryConsumeAndReturnRemaining(cost);
    boolean tenantOver = false;
    if (probe.isConsumed()) {
      if (tenantBucket.tryConsume(cost)) {
        return null;
      }
      bucket.addTokens(cost);
      tenantOver = true;
    }
    forgetUnclaimed(now);
    if (!messageId.isEmpty() && reserved.size() < maxInFlight) {
      long waitNanos = Math.max(bucket.consumeIgnoringRateLimits(cost), tenantBucket.consumeIgnoringRateLimits(cost));
      long waitMs = Math.max(1, toMillis(waitNanos));
      reserved.put(messageId, new Reservation(now + waitMs, cost));
      return tenantOver ? tenantLimited(waitMs) : limited(waitMs);
    }
    if (tenantOver) {
      // The tenant's other connections used its share: not this connection's abuse.
      return tenantLimited(Math.max(1, toMillis(tenantBucket.estimateAbilityToConsume(cost).getNanosToWaitForRefill())));
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
    reserved.values().removeIf(reservation -> {
      boolean unclaimed = now - reservation.readyAtMs() > UNCLAIMED_AFTER_MS;
      if (unclaimed) {
        giveBack(reservation);
      }
      return unclaimed;
    });
  }

  /** The connection ends: what it set aside and never used goes back to its tenant's other connections. */
  void close() {
    reserved.values().forEach(this::giveBack);
    reserved.clear();
  }

  private void giveBack(Reservation reservation) {
    tenantBucket.addTokens(reservation.cost());
  }

  private WorkstreamException limited(long retryAfterMs) {
    return new WorkstreamException(ErrorCode.RATE_LIMITED,
      "more than " + rate.messagesPerSecond() + " messages per second", "", retryAfterMs);
  }

  private WorkstreamException tenantLimited(long retryAfterMs) {
    return new WorkstreamException(ErrorCode.RATE_LIMITED, "the tenant's connections send more than "
      + rate.tenantMessagesPerSecond() + " messages per second to this node", "", retryAfterMs);
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
