package io.workstream.testing;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * One node of a {@link LocalCluster}: the shaded jar in a JVM of its own, clustered on loopback, running the given
 * deployment units. Its output goes to {@link #log}. Signals go to the JVM itself: {@link #kill()} (SIGKILL),
 * {@link #freeze()} / {@link #thaw()} (SIGSTOP / SIGCONT: a hung process that still holds its sockets open) and
 * {@link #terminate(Duration)} (SIGTERM: the graceful drain).
 */
public final class ClusterNode implements AutoCloseable {

  public final String name;
  public final List<String> units;
  /** HTTP: the gateway on an edge, /health* and /metrics on every node. */
  public final int port;
  public final Path log;
  private final Process process;
  private volatile boolean frozen;

  ClusterNode(String name, List<String> units, int port, Path log, Process process) {
    this.name = name;
    this.units = units;
    this.port = port;
    this.log = log;
    this.process = process;
  }

  public long pid() {
    return process.pid();
  }

  public boolean isAlive() {
    return process.isAlive();
  }

  /** Waits until {@code /health/ready} answers 200; fails with the node's log if it exits or times out. */
  public ClusterNode awaitReady(Duration timeout) {
    HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
    long deadline = System.nanoTime() + timeout.toNanos();
    while (System.nanoTime() < deadline) {
      if (!process.isAlive()) {
        throw new AssertionError(name + " exited with " + process.exitValue() + ":\n" + logTail(80));
      }
      try {
        HttpResponse<Void> response = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port
          + "/health/ready")).timeout(Duration.ofSeconds(2)).build(), HttpResponse.BodyHandlers.discarding());
        if (response.statusCode() == 200) {
          return this;
        }
      } catch (IOException e) {
        // not listening yet
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new AssertionError(e);
      }
      sleep(200);
    }
    throw new AssertionError(name + " was not ready within " + timeout + ":\n" + logTail(80));
  }

  /** SIGKILL: the node dies without leaving the cluster; its peers notice through failure detection. */
  public void kill() {
    process.destroyForcibly();
    try {
      process.waitFor(10, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError(e);
    }
  }

  /** SIGSTOP: the JVM stops answering but its sockets stay open (a long GC pause, a hung host). */
  public void freeze() {
    signal("STOP");
    frozen = true;
  }

  /** SIGCONT after {@link #freeze()}. */
  public void thaw() {
    signal("CONT");
    frozen = false;
  }

  /** SIGTERM and wait for the exit (the graceful drain); returns the exit code. */
  public int terminate(Duration timeout) {
    if (frozen) {
      thaw();
    }
    process.destroy();
    try {
      if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
        throw new AssertionError(name + " did not exit within " + timeout + " of SIGTERM:\n" + logTail(40));
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError(e);
    }
    return process.exitValue();
  }

  public String logText() {
    try {
      return Files.readString(log);
    } catch (IOException e) {
      return "(no log: " + e + ")";
    }
  }

  /** The last {@code lines} lines of the log. */
  public String logTail(int lines) {
    List<String> all = logText().lines().toList();
    return String.join("\n", all.subList(Math.max(0, all.size() - lines), all.size()));
  }

  @Override
  public void close() {
    if (process.isAlive()) {
      if (frozen) {
        thaw();
      }
      process.destroyForcibly();
    }
  }

  @Override
  public String toString() {
    return name + units + " pid " + pid() + " port " + port;
  }

  private void signal(String signal) {
    try {
      int exit = new ProcessBuilder("kill", "-" + signal, Long.toString(process.pid())).inheritIO().start().waitFor();
      if (exit != 0) {
        throw new IllegalStateException("kill -" + signal + " " + process.pid() + " exited with " + exit);
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  private static void sleep(long millis) {
    try {
      Thread.sleep(millis);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError(e);
    }
  }
}
