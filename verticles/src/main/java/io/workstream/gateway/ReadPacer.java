package io.workstream.gateway;

import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.workstream.bus.ErrorCode;
import io.workstream.bus.WorkstreamException;

import java.util.ArrayDeque;

/**
 * One connection's large reads — pages of history, GetWorkItems pages — one at a time: the next is asked of the
 * database only once the previous one has gone out to the socket, so what a connection has in hand from the database
 * is one page, however many it asks for and however slowly it reads. Confined to the connection's event loop.
 */
final class ReadPacer {

  /** Mostly empty: sized for one, it grows when needed. */
  private final ArrayDeque<Promise<Void>> waiting = new ArrayDeque<>(1);
  private boolean busy;
  private boolean closed;

  /** Completes when it is this read's turn; the turn is given back with {@link #done()}. */
  Future<Void> turn() {
    if (closed) {
      return Future.failedFuture(closedFailure());
    }
    if (!busy) {
      busy = true;
      return Future.succeededFuture();
    }
    Promise<Void> turn = Promise.promise();
    waiting.add(turn);
    return turn.future();
  }

  /** The read whose turn it was has gone out (or failed): the next one may start. */
  void done() {
    Promise<Void> next = waiting.poll();
    if (next == null) {
      busy = false;
    } else {
      next.complete();
    }
  }

  /** The connection closed: reads still waiting for their turn fail. */
  void close() {
    closed = true;
    while (!waiting.isEmpty()) {
      waiting.poll().tryFail(closedFailure());
    }
  }

  private static WorkstreamException closedFailure() {
    return new WorkstreamException(ErrorCode.SERVICE_UNAVAILABLE, "the connection is closing");
  }

  /**
   * A turn shared by the subscriptions one page of history feeds: given back once the last of them has written (or
   * dropped) its part. Each part is taken with {@link #part()}; {@link #seal()} says every part has been taken.
   */
  static final class Shared {

    private final Runnable done;
    private int open = 1;

    Shared(Runnable done) {
      this.done = done;
    }

    /** A part of the page: run it once that part has gone out; running it again does nothing. */
    Runnable part() {
      open++;
      boolean[] ran = new boolean[1];
      return () -> {
        if (!ran[0]) {
          ran[0] = true;
          release();
        }
      };
    }

    void seal() {
      release();
    }

    private void release() {
      if (--open == 0) {
        done.run();
      }
    }
  }
}
