package io.workstream.db;

import io.vertx.pgclient.PgConnectOptions;
import org.flywaydb.core.Flyway;
import org.flywaydb.core.api.MigrationInfo;
import org.flywaydb.core.api.configuration.FluentConfiguration;
import org.flywaydb.core.api.output.MigrateResult;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.Arrays;

/** Brings the schema up to date with Flyway (scripts in {@code db/migration}). Blocking: run it on a worker. */
final class Migrations {

  private static final Logger LOG = LoggerFactory.getLogger(Migrations.class);

  /**
   * The checksum of V3 as one build released it, edited after an earlier build had released it (the edit, lock_item,
   * is in V4 now). A database migrated by that build is realigned to the released V3; V4 then defines again what it
   * already has. Any other checksum mismatch still stops the start, as Flyway means it to.
   */
  static final int V3_EDITED_CHECKSUM = -1743312034;

  private Migrations() {
  }

  static void migrate(PgConnectOptions target) {
    Flyway flyway = flyway(target, "classpath:db/migration").load();
    if (Arrays.stream(flyway.info().applied()).anyMatch(Migrations::isEditedV3)) {
      LOG.warn("realigning the recorded checksum of migration V3 (edited after release; its change is in V4)");
      flyway.repair();
    }
    MigrateResult result = flyway.migrate();
    LOG.info("schema at version {} ({} migrations applied now)", flyway.info().current().getVersion(),
      result.migrationsExecuted);
  }

  /** Flyway for {@code target}, with the migrations at {@code location}. */
  static FluentConfiguration flyway(PgConnectOptions target, String location) {
    String url = "jdbc:postgresql://" + target.getHost() + ":" + target.getPort() + "/" + target.getDatabase();
    return Flyway.configure().dataSource(url, target.getUser(), target.getPassword()).locations(location);
  }

  private static boolean isEditedV3(MigrationInfo applied) {
    return applied.getVersion() != null && "3".equals(applied.getVersion().getVersion())
      && Integer.valueOf(V3_EDITED_CHECKSUM).equals(applied.getChecksum());
  }
}
