package io.workstream.testing;

import io.vertx.core.json.JsonObject;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * The service as operators run it: the shaded jar in a JVM of its own, through the Vert.x CLI launcher, with a
 * configuration file and environment overrides. Its output goes to a log file next to the configuration.
 */
public final class ServiceProcess implements AutoCloseable {

  public final Process process;
  public final int port;
  public final Path log;

  ServiceProcess(Process process, int port, Path log) {
    this.process = process;
    this.port = port;
    this.log = log;
  }

  /** Starts {@code java -jar workstream.jar run <verticle> -conf <config> <args>}; the port comes from the env. */
  public static ServiceProcess start(JsonObject config, String verticle, String... args) {
    try {
      Path dir = Files.createTempDirectory("workstream-process");
      Path conf = dir.resolve("conf.json");
      Files.writeString(conf, config.encodePrettily());
      int port = freePort();
      List<String> command = new ArrayList<>(List.of(javaBinary(), "-Xmx256m", "-jar",
        System.getProperty("workstream.jar", "target/workstream.jar"), "run", verticle, "-conf", conf.toString()));
      command.addAll(List.of(args));
      Path log = dir.resolve("service.log");
      ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile());
      builder.environment().putAll(Map.of("WORKSTREAM_HTTP_PORT", Integer.toString(port)));
      return new ServiceProcess(builder.start(), port, log);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Waits until {@code /health/ready} answers 200. */
  public ServiceProcess awaitReady(Duration timeout) {
    HttpClient http = HttpClient.newHttpClient();
    long deadline = System.nanoTime() + timeout.toNanos();
    while (System.nanoTime() < deadline) {
      if (!process.isAlive()) {
        throw new AssertionError("the service exited with " + process.exitValue() + ":\n" + logText());
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
      pause();
    }
    throw new AssertionError("the service was not ready within " + timeout + ":\n" + logText());
  }

  /** SIGTERM, as an orchestrator stops it; returns the exit code. */
  public int terminate(Duration timeout) {
    process.destroy();
    try {
      if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
        throw new AssertionError("the service did not exit within " + timeout + " of SIGTERM:\n" + logText());
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

  @Override
  public void close() {
    if (process.isAlive()) {
      process.destroyForcibly();
    }
  }

  private static int freePort() throws IOException {
    try (ServerSocket socket = new ServerSocket(0)) {
      return socket.getLocalPort();
    }
  }

  private static String javaBinary() {
    return Path.of(System.getProperty("java.home"), "bin", "java").toString();
  }

  private static void pause() {
    try {
      Thread.sleep(100);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError(e);
    }
  }
}
