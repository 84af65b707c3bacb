package io.workstream.db;

import io.vertx.core.Vertx;
import io.vertx.pgclient.PgBuilder;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.PoolOptions;
import io.workstream.testing.TestDatabase;

import java.util.concurrent.TimeUnit;

/**
 * A {@link WorkItemStore} on the shared test database, migrated, with a pool of its own: retention as configured by
 * default, a hierarchy of at most 4 levels.
 */
record StoreFixture(Vertx vertx, Pool pool, WorkItemStore store) implements AutoCloseable {

  static StoreFixture open(int poolSize, int lanesPerTenant) {
    TestDatabase db = TestDatabase.shared();
    Migrations.migrate(db.connectOptions());
    Vertx vertx = Vertx.vertx();
    Pool pool = PgBuilder.pool().with(new PoolOptions().setMaxSize(poolSize)).connectingTo(db.connectOptions())
      .using(vertx).build();
    WorkItemStore store = new WorkItemStore(pool, new DbConfig.Retention(10_000, 7 * 24 * 3600 * 1000L,
      24 * 3600 * 1000L, 60_000, 500, 10), 1024 * 1024, 4, new DbConfig.GroupCommitLimits(lanesPerTenant, 32));
    return new StoreFixture(vertx, pool, store);
  }

  @Override
  public void close() throws Exception {
    pool.close().await(10, TimeUnit.SECONDS);
    vertx.close().await(10, TimeUnit.SECONDS);
  }
}
