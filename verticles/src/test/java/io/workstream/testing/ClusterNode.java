package io.workstream.testing;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * One node of a {@link LocalCluster}: a {@link ServiceProcess} clustered on loopback, running the given deployment
 * units, with the signals a cluster test needs on top: {@link #kill()} (SIGKILL), {@link #freeze()} /
 * {@link #thaw()} (SIGSTOP / SIGCONT: a hung process that still holds its sockets open) and
 * {@link #terminate(Duration)} (SIGTERM: the graceful drain).
 */
public final class ClusterNode implements AutoCloseable {

  public final String name;
  public final List<String> units;
  /** HTTP: the gateway on an edge, /health* and /metrics on every node. */
  public final int port;
  public final Path log;
  private final ServiceProcess service;
  private volatile boolean frozen;

  ClusterNode(String name, List<String> units, int port, Path log, Process process) {
    this.name = name;
    this.units = units;
    this.port = port;
    this.log = log;
    this.service = new ServiceProcess(process, port, log);
  }

  public long pid() {
    return service.process.pid();
  }

  public boolean isAlive() {
    return service.process.isAlive();
  }

  /** Waits until {@code /health/ready} answers 200; fails with the node's log if it exits or times out. */
  public ClusterNode awaitReady(Duration timeout) {
    service.awaitReady(timeout);
    return this;
  }

  /** SIGKILL: the node dies without leaving the cluster; its peers notice through failure detection. */
  public void kill() {
    service.process.destroyForcibly();
    try {
      service.process.waitFor(10, TimeUnit.SECONDS);
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
    return service.terminate(timeout);
  }

  public String logText() {
    return service.logText();
  }

  /** The last {@code lines} lines of the log. */
  public String logTail(int lines) {
    List<String> all = logText().lines().toList();
    return String.join("\n", all.subList(Math.max(0, all.size() - lines), all.size()));
  }

  @Override
  public void close() {
    if (frozen && isAlive()) {
      thaw();
    }
    service.close();
  }

  @Override
  public String toString() {
    return name + units + " pid " + pid() + " port " + port;
  }

  private void signal(String signal) {
    try {
      int exit = new ProcessBuilder("kill", "-" + signal, Long.toString(pid())).inheritIO().start().waitFor();
      if (exit != 0) {
        throw new IllegalStateException("kill -" + signal + " " + pid() + " exited with " + exit);
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }
}
