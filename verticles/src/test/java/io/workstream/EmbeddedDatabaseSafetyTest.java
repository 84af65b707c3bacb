package io.workstream;

import io.vertx.core.json.JsonObject;
import io.vertx.pgclient.PgConnectOptions;
import io.workstream.config.Environment;
import io.workstream.db.DbConfig;
import io.workstream.db.EmbeddedDatabase;
import io.workstream.db.PasswordProtectedPostgres;
import io.workstream.testing.TestDatabase;
import io.workstream.testing.TestService;
import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.net.ConnectException;
import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.NetworkInterface;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Properties;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The embedded PostgreSQL lets in only who has its password, and only from this host; an external database is
 * named completely or the node does not start.
 */
class EmbeddedDatabaseSafetyTest {

  @Test
  void theEmbeddedServerAsksForItsPasswordAndListensOnLoopbackOnly() throws Exception {
    Path dataDir = Files.createTempDirectory("workstream-embedded").resolve("postgres");
    PgConnectOptions target = EmbeddedDatabase.acquire(dataDir, 0);
    try {
      assertEquals("127.0.0.1", target.getHost());
      assertRefused(target, null);
      assertRefused(target, "not-the-password");
      assertEquals(1, queryInt(target, target.getPassword(), "SELECT 1"));
      Path passwordFile = PasswordProtectedPostgres.passwordFile(dataDir);
      assertEquals(target.getPassword(), Files.readString(passwordFile).trim());
      assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(passwordFile)));
      assertFalse(Files.readString(dataDir.resolve("pg_hba.conf")).contains("trust"));
      for (InetAddress address : nonLoopbackAddresses()) {
        assertThrows(ConnectException.class, () -> {
          try (Socket socket = new Socket()) {
            socket.connect(new InetSocketAddress(address, target.getPort()), 2_000);
          }
        }, "the embedded PostgreSQL answers on " + address);
      }
    } finally {
      EmbeddedDatabase.release();
    }
    // The next start finds the password again.
    PgConnectOptions again = EmbeddedDatabase.acquire(dataDir, 0);
    try {
      assertEquals(target.getPassword(), again.getPassword());
      assertEquals(1, queryInt(again, again.getPassword(), "SELECT 1"));
    } finally {
      EmbeddedDatabase.release();
    }
  }

  /** A data directory left by an earlier version (trust for everyone) keeps its data and gets a password. */
  @Test
  void aTrustingDataDirectoryFromAnEarlierVersionIsConverted() throws Exception {
    Path dataDir = Files.createTempDirectory("workstream-embedded").resolve("postgres");
    try (EmbeddedPostgres old = EmbeddedPostgres.builder().setDataDirectory(dataDir).setCleanDataDirectory(false)
      .start();
         Connection c = old.getPostgresDatabase().getConnection();
         Statement s = c.createStatement()) {
      s.execute("CREATE DATABASE workstream");
    }
    try (EmbeddedPostgres old = EmbeddedPostgres.builder().setDataDirectory(dataDir).setCleanDataDirectory(false)
      .start();
         Connection c = old.getDatabase("postgres", "workstream").getConnection();
         Statement s = c.createStatement()) {
      s.execute("CREATE TABLE kept (n int)");
      s.execute("INSERT INTO kept VALUES (42)");
    }
    assertTrue(Files.readString(dataDir.resolve("pg_hba.conf")).contains("trust"));

    PgConnectOptions target = EmbeddedDatabase.acquire(dataDir, 0);
    try {
      assertEquals(42, queryInt(target, target.getPassword(), "SELECT n FROM kept"));
      assertRefused(target, null);
      assertFalse(Files.readString(dataDir.resolve("pg_hba.conf")).contains("trust"));
    } finally {
      EmbeddedDatabase.release();
    }
  }

  @Test
  void anIncompleteExternalDatabaseStopsTheStartNamingWhatIsMissing() {
    JsonObject config = TestService.baseConfig(TestDatabase.shared());
    config.put("db", new JsonObject().put("embedded", new JsonObject().put("enabled", false)));
    IllegalStateException refused = assertThrows(IllegalStateException.class, () -> TestService.start(config));
    String message = SafeDefaultsTest.causes(refused);
    for (String named : List.of("db.url", "db.host", "db.user", "db.password")) {
      assertTrue(message.contains(named), named + " is not named: " + message);
    }

    String noPassword = refusal(new JsonObject().put("embedded", new JsonObject().put("enabled", false))
      .put("url", "postgresql://app@db.internal:5432/work"));
    assertTrue(noPassword.contains("db.password") && !noPassword.contains("db.user"), noPassword);
    String noUser = refusal(new JsonObject().put("embedded", new JsonObject().put("enabled", false))
      .put("host", "db.internal").put("password", "pw"));
    assertTrue(noUser.contains("db.user") && !noUser.contains("db.password"), noUser);
  }

  @Test
  void anExternalDatabaseBesideAnExplicitlyEnabledEmbeddedOneIsAContradiction() {
    String both = refusal(new JsonObject().put("embedded", new JsonObject().put("enabled", true))
      .put("url", "postgresql://app:pw@db.internal:5432/work"));
    assertTrue(both.contains("db.embedded.enabled is true"), both);
  }

  @Test
  void namingAnExternalDatabaseUsesIt() {
    DbConfig byUrl = DbConfig.from(new JsonObject().put("db", new JsonObject()
      .put("url", "postgresql://app@db.internal:5433/work").put("password", "from-env")));
    assertFalse(byUrl.embedded());
    assertEquals("db.internal", byUrl.connect().getHost());
    assertEquals("app", byUrl.connect().getUser());
    assertEquals("from-env", byUrl.connect().getPassword());
    assertTrue(DbConfig.from(new JsonObject()).embedded(), "nothing named: the embedded database");
  }

  @Test
  void theShippedConfigurationsReadAsDocumented() throws Exception {
    assertTrue(DbConfig.from(conf("dev.json")).embedded(), "the laptop run uses the embedded database");
    DbConfig external = DbConfig.from(Environment.apply(conf("dev.json"),
      Map.of("WORKSTREAM_DB_URL", "postgresql://app:pw@db.internal:5432/work")));
    assertFalse(external.embedded());
    assertEquals("db.internal", external.connect().getHost());
    String core = assertThrows(IllegalArgumentException.class, () -> DbConfig.from(conf("core.json"))).getMessage();
    assertTrue(core.contains("db.url") && core.contains("db.password"), core);
  }

  private static JsonObject conf(String name) throws IOException {
    return new JsonObject(Files.readString(Path.of("../conf", name)));
  }

  private static String refusal(JsonObject db) {
    return assertThrows(IllegalArgumentException.class, () -> DbConfig.from(new JsonObject().put("db", db)))
      .getMessage();
  }

  private static void assertRefused(PgConnectOptions target, String password) {
    SQLException refused = assertThrows(SQLException.class, () -> queryInt(target, password, "SELECT 1"),
      "connected with password " + password);
    assertTrue(String.valueOf(refused.getMessage()).contains("password"), refused.getMessage());
  }

  private static int queryInt(PgConnectOptions target, String password, String sql) throws SQLException {
    Properties properties = new Properties();
    properties.setProperty("user", target.getUser());
    if (password != null) {
      properties.setProperty("password", password);
    }
    String url = "jdbc:postgresql://" + target.getHost() + ":" + target.getPort() + "/" + target.getDatabase();
    try (Connection c = DriverManager.getConnection(url, properties); Statement s = c.createStatement();
         ResultSet rs = s.executeQuery(sql)) {
      rs.next();
      return rs.getInt(1);
    }
  }

  private static List<InetAddress> nonLoopbackAddresses() throws IOException {
    return Collections.list(NetworkInterface.getNetworkInterfaces()).stream()
      .flatMap(NetworkInterface::inetAddresses)
      .filter(a -> !a.isLoopbackAddress() && !a.isLinkLocalAddress() && a instanceof Inet4Address)
      .toList();
  }
}
