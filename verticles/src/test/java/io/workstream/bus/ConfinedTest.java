package io.workstream.bus;

import org.junit.jupiter.api.Test;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;

import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The event-loop guard passes on the thread that made it and fails, naming both threads, on any other. */
class ConfinedTest {

  @Test
  void passesOnItsOwnThreadAndFailsOnAnother() {
    Confined confined = new Confined("the state");
    assertTrue(confined.here());
    ExecutionException failed = assertThrows(ExecutionException.class,
      () -> CompletableFuture.runAsync(confined::here, runnable -> new Thread(runnable, "stray").start()).get());
    assertInstanceOf(AssertionError.class, failed.getCause());
    String message = failed.getCause().getMessage();
    assertTrue(message.contains("the state used on stray, not on " + Thread.currentThread().getName()), message);
  }
}
