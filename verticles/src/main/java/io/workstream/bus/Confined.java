package io.workstream.bus;

/**
 * Marks state that lives on one event loop alone, the thread it was made on. Its users check under assertions
 * ({@code assert confined.here();}): the tests catch a call from any other thread, and production pays nothing.
 */
public final class Confined {

  private final String what;
  private final Thread owner = Thread.currentThread();

  /** {@code what}: the state's name, for the failure. */
  public Confined(String what) {
    this.what = what;
  }

  /** True on the owning thread; anywhere else an {@link AssertionError} naming both threads. */
  public boolean here() {
    if (Thread.currentThread() != owner) {
      throw new AssertionError(what + " used on " + Thread.currentThread().getName() + ", not on " + owner.getName());
    }
    return true;
  }
}
