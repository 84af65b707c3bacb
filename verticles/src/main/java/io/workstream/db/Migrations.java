package io.workstream.db;

import io.vertx.pgclient.PgConnectOptions;
import org.flywaydb.core.Flyway;
import org.flywaydb.core.api.output.MigrateResult;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Brings the schema up to date with Flyway (scripts in {@code db/migration}). Blocking: run it on a worker. */
final class Migrations {

  private static final Logger LOG = LoggerFactory.getLogger(Migrations.class);

  private Migrations() {
  }

  static void migrate(PgConnectOptions target) {
    String url = "jdbc:postgresql://" + target.getHost() + ":" + target.getPort() + "/" + target.getDatabase();
    Flyway flyway = Flyway.configure()
      .dataSource(url, target.getUser(), target.getPassword())
      .locations("classpath:db/migration")
      .load();
    MigrateResult result = flyway.migrate();
    LOG.info("schema at version {} ({} migrations applied now)", flyway.info().current().getVersion(),
      result.migrationsExecuted);
  }
}
