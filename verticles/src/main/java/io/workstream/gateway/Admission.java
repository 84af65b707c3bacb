package io.workstream.gateway;

import io.github.bucket4j.Bandwidth;
import io.github.bucket4j.Bucket;
import io.github.bucket4j.ConsumptionProbe;
import io.github.bucket4j.local.SynchronizationStrategy;
import io.workstream.bus.ErrorCode;
import io.workstream.bus.WorkstreamException;

import java.time.Duration;

/**
 * How much one connection may ask of the node: a token bucket over its messages, a count of the messages refused
 * in the current abuse window, and a cap on its requests unanswered. Confined to the connection's event loop.
 */
final class Admission {

  /** What a client that has too many requests unanswered is told to wait before sending another. */
  private static final long IN_FLIGHT_RETRY_AFTER_MS = 100;

  private final GatewayConfig.RateLimit rate;
  private final int maxInFlight;
  private final Bucket bucket;
  private long rejectionWindowStartMs;
  private int rejectionsInWindow;
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
   * Takes a token for one inbound message: null when it may be processed, otherwise the RATE_LIMITED to refuse it
   * with (saying when a token will be there). A refusal counts towards {@link #abusive()}.
   */
  WorkstreamException overRate() {
    ConsumptionProbe probe = bucket.tryConsumeAndReturnRemaining(1);
    if (probe.isConsumed()) {
      return null;
    }
    long now = System.currentTimeMillis();
    if (now - rejectionWindowStartMs > rate.abuseWindowMs()) {
      rejectionWindowStartMs = now;
      rejectionsInWindow = 0;
    }
    rejectionsInWindow++;
    long retryAfterMs = Math.max(1, (probe.getNanosToWaitForRefill() + 999_999) / 1_000_000);
    return new WorkstreamException(ErrorCode.RATE_LIMITED,
      "more than " + rate.messagesPerSecond() + " messages per second", "", retryAfterMs);
  }

  /** Asked after a refusal: the client has been refused more often in this window than it may be (it floods). */
  boolean abusive() {
    return rejectionsInWindow > rate.maxRejections();
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
