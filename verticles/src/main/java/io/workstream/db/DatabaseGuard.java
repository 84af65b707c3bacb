package io.workstream.db;

import io.vertx.circuitbreaker.CircuitBreaker;
import io.vertx.circuitbreaker.CircuitBreakerOptions;
import io.vertx.circuitbreaker.CircuitBreakerState;
import io.vertx.circuitbreaker.OpenCircuitException;
import io.vertx.circuitbreaker.RetryPolicy;
import io.vertx.circuitbreaker.TimeoutException;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.workstream.bus.ErrorCode;
import io.workstream.bus.WorkstreamException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Supplier;

import static net.logstash.logback.argument.StructuredArguments.kv;

/**
 * Runs every database operation through one {@link CircuitBreaker}, retrying transient failures with exponential
 * backoff and full jitter inside it. While the breaker is open, operations fail at once with SERVICE_UNAVAILABLE
 * and the time left until it tries the database again.
 */
final class DatabaseGuard {

  private static final Logger LOG = LoggerFactory.getLogger(DatabaseGuard.class);

  private final Vertx vertx;
  private final CircuitBreaker breaker;
  private final DbConfig.Retry retry;
  private final RetryPolicy backoff;
  private final long resetTimeoutMs;
  private volatile long openedAtMs;
  private final MeterRegistry registry;
  private final Gauge stateGauge;

  DatabaseGuard(Vertx vertx, MeterRegistry registry, DbConfig.Breaker breakerConfig, DbConfig.Retry retry) {
    this.vertx = vertx;
    this.retry = retry;
    this.backoff = RetryPolicy.exponentialDelayWithJitter(retry.initialDelayMs(), retry.maxDelayMs());
    this.resetTimeoutMs = breakerConfig.resetTimeoutMs();
    this.breaker = CircuitBreaker.create("database", vertx, new CircuitBreakerOptions()
        .setMaxFailures(breakerConfig.maxFailures())
        .setFailuresRollingWindow(breakerConfig.failureWindowMs())
        .setResetTimeout(breakerConfig.resetTimeoutMs())
        .setTimeout(breakerConfig.timeoutMs()))
      .failurePolicy(result -> result.failed() && DbErrors.countsAgainstBreaker(result.cause()))
      .openHandler(v -> {
        openedAtMs = System.currentTimeMillis();
        LOG.warn("database circuit OPEN: failing fast for {} ms", resetTimeoutMs);
      })
      .halfOpenHandler(v -> LOG.info("database circuit HALF_OPEN: trying the database again"))
      .closeHandler(v -> LOG.info("database circuit CLOSED"));
    this.registry = registry;
    this.stateGauge = Gauge.builder("workstream.db.circuit.state", breaker, DatabaseGuard::stateValue)
      .tag("name", breaker.name())
      .description("Database circuit breaker: 0 closed, 1 half-open, 2 open")
      .register(registry);
  }

  /** Removes the breaker's gauge (the registry outlives this verticle instance). */
  void close() {
    registry.remove(stateGauge);
  }

  /**
   * Runs {@code operation} under the breaker; fails only with {@link WorkstreamException}. Once the caller has its
   * answer (the breaker's timeout), no further attempt starts: a retry nobody waits for only adds load.
   */
  <T> Future<T> run(Supplier<Future<T>> operation) {
    AtomicBoolean answered = new AtomicBoolean();
    return breaker.<T>execute(promise -> attempt(operation, 1, promise, answered))
      .andThen(done -> answered.set(true))
      .recover(this::toClient);
  }

  private static double stateValue(CircuitBreaker breaker) {
    return switch (breaker.state()) {
      case CLOSED -> 0;
      case HALF_OPEN -> 1;
      case OPEN -> 2;
    };
  }

  CircuitBreakerState state() {
    return breaker.state();
  }

  /** How long a client should wait before trying again while the breaker is open. */
  long retryAfterMs() {
    long left = openedAtMs + resetTimeoutMs - System.currentTimeMillis();
    return Math.max(250, left);
  }

  private <T> void attempt(Supplier<Future<T>> operation, int attempt, Promise<T> promise, AtomicBoolean answered) {
    Future<T> result;
    try {
      result = operation.get();
    } catch (RuntimeException e) {
      result = Future.failedFuture(e);
    }
    result.onComplete(promise::complete, failure -> {
      if (attempt < retry.attempts() && DbErrors.isTransient(failure) && breaker.state() == CircuitBreakerState.CLOSED
        && !answered.get()) {
        long delay = Math.max(1, backoff.delay(failure, attempt));
        LOG.debug("transient database failure, retrying", kv("attempt", attempt),
          kv("delayMs", delay), kv("error", failure.toString()));
        vertx.setTimer(delay, t -> {
          if (answered.get()) {
            promise.fail(failure);
          } else {
            attempt(operation, attempt + 1, promise, answered);
          }
        });
      } else {
        promise.fail(failure);
      }
    });
  }

  private <T> Future<T> toClient(Throwable failure) {
    if (failure instanceof OpenCircuitException) {
      return Future.failedFuture(WorkstreamException.unavailable("the database is unavailable", retryAfterMs()));
    }
    if (failure instanceof TimeoutException) {
      return Future.failedFuture(new WorkstreamException(ErrorCode.TIMEOUT,
        "the database did not answer in time; resend with the same message_id"));
    }
    Throwable answer = DbErrors.toClient(failure, retryAfterMs());
    if (answer instanceof WorkstreamException known
      && (known.code() == ErrorCode.DATABASE_ERROR || known.code().isInfrastructure())) {
      LOG.warn("database operation failed", kv("error", failure.toString()));
    }
    return Future.failedFuture(answer);
  }
}
