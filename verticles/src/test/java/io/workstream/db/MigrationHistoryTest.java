package io.workstream.db;

import io.vertx.pgclient.PgConnectOptions;
import io.workstream.testing.TestDatabase;
import org.flywaydb.core.Flyway;
import org.flywaydb.core.api.MigrationInfo;
import org.flywaydb.core.api.exception.FlywayValidateException;
import org.junit.jupiter.api.Test;

import java.util.Arrays;
import java.util.Map;
import java.util.TreeMap;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Released migrations never change (Flyway refuses to start on a database whose recorded checksum differs), and a
 * database migrated by the one build that shipped an edited V3 is realigned and upgraded, not refused.
 */
class MigrationHistoryTest {

  private static final String MIGRATIONS = "classpath:db/migration";

  /** The checksums of the migrations as released: a migration that shipped is never edited, only followed. */
  private static final Map<String, Integer> RELEASED = Map.of("1", -1080495951, "2", -1885982384, "3", -957569511);

  @Test
  void releasedMigrationsKeepTheirChecksums() {
    PgConnectOptions target = TestDatabase.shared().newDatabase();
    Migrations.migrate(target);
    assertEquals(RELEASED, checksums(Migrations.flyway(target, MIGRATIONS).load(), RELEASED.size()));
  }

  @Test
  void aDatabaseMigratedWithTheEditedV3IsRealignedAndUpgraded() {
    PgConnectOptions target = TestDatabase.shared().newDatabase();
    Migrations.flyway(target, MIGRATIONS).target("2").load().migrate();
    Flyway edited = Migrations.flyway(target, "classpath:db/edited-v3").ignoreMigrationPatterns("*:missing").load();
    edited.migrate();
    assertEquals(Migrations.V3_EDITED_CHECKSUM, checksums(edited, 3).get("3"));

    Migrations.migrate(target);

    Flyway current = Migrations.flyway(target, MIGRATIONS).load();
    assertEquals(RELEASED, checksums(current, RELEASED.size()));
    assertEquals(0, current.info().pending().length);
    assertTrue(checksums(current, Integer.MAX_VALUE).containsKey("4"), "V4 applied");
  }

  @Test
  void anyOtherEditOfAReleasedMigrationStillStopsTheStart() {
    PgConnectOptions target = TestDatabase.shared().newDatabase();
    Migrations.migrate(target);
    try (var c = Migrations.flyway(target, MIGRATIONS).load().getConfiguration().getDataSource().getConnection();
         var s = c.createStatement()) {
      s.execute("UPDATE flyway_schema_history SET checksum = 12345 WHERE version = '3'");
    } catch (java.sql.SQLException e) {
      throw new IllegalStateException(e);
    }
    assertThrows(FlywayValidateException.class, () -> Migrations.migrate(target));
  }

  /** The recorded checksums of the applied versioned migrations, the first {@code count} of them. */
  private static Map<String, Integer> checksums(Flyway flyway, int count) {
    Map<String, Integer> recorded = new TreeMap<>();
    Arrays.stream(flyway.info().applied()).filter(MigrationInfo::isVersioned).limit(count)
      .forEach(m -> recorded.put(m.getVersion().getVersion(), m.getChecksum()));
    return recorded;
  }
}
