package io.workstream.db;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.pgclient.PgException;
import io.workstream.bus.ErrorCode;
import io.workstream.bus.WorkstreamException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * Once the breaker's timeout has answered the caller, the guard starts no further attempt of that operation: a
 * retry nobody waits for is only load on a database that is already slow.
 */
class DatabaseGuardTest {

  private final Vertx vertx = Vertx.vertx();

  @AfterEach
  void close() {
    vertx.close().await();
  }

  @Test
  void noAttemptStartsAfterTheCallerWasAnswered() throws Exception {
    long timeoutMs = 300;
    DatabaseGuard guard = new DatabaseGuard(vertx, new SimpleMeterRegistry(),
      new DbConfig.Breaker(100, 60_000, 30_000, timeoutMs), new DbConfig.Retry(50, 100, 100));
    AtomicInteger attempts = new AtomicInteger();
    // Each attempt takes 100 ms and fails with a serialization failure, which the guard retries after 100 ms.
    CompletableFuture<Throwable> answer = new CompletableFuture<>();
    vertx.runOnContext(v -> guard.run(() -> {
      attempts.incrementAndGet();
      Promise<Void> attempt = Promise.promise();
      vertx.setTimer(100, t -> attempt.fail(new PgException("could not serialize", "ERROR", "40001", null)));
      return attempt.future();
    }).onComplete(done -> answer.complete(done.cause())));

    Throwable failure = answer.get(5, TimeUnit.SECONDS);
    assertEquals(ErrorCode.TIMEOUT, ((WorkstreamException) failure).code());
    int atAnswer = attempts.get();
    // Long enough for several more attempts if retries went on (one every 200 ms).
    CompletableFuture<Void> later = new CompletableFuture<>();
    vertx.setTimer(1_000, t -> later.complete(null));
    later.get(5, TimeUnit.SECONDS);
    assertEquals(atAnswer, attempts.get(), "no attempt after the caller's answer");
  }
}
