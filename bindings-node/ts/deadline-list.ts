/** A deadline kept in a `DeadlineList`: when it is due, whether it is still waited for, and its
 * neighbours there. */
export interface Listed {
  at: number;
  live: boolean;
  prev: Listed | undefined;
  next: Listed | undefined;
}

/**
 * Deadlines in order, linked both ways: each is put in its place searching from the end (most
 * come in order: the same delay from a later start), and taken out anywhere in constant time;
 * what is due is taken from the head.
 */
export class DeadlineList<N extends Listed> {
  head: N | undefined;
  tail: N | undefined;

  insert(n: N): void {
    let after = this.tail as Listed | undefined;
    while (after !== undefined && after.at > n.at) after = after.prev;
    const before = after === undefined ? this.head : after.next;
    n.prev = after;
    n.next = before;
    if (after === undefined) this.head = n;
    else after.next = n;
    if (before === undefined) this.tail = n;
    else before.prev = n;
  }

  unlink(n: N): void {
    const { prev, next } = n;
    if (prev === undefined) this.head = next as N | undefined;
    else prev.next = next;
    if (next === undefined) this.tail = prev as N | undefined;
    else next.prev = prev;
    n.prev = undefined;
    n.next = undefined;
  }

  /** Takes out every deadline due by `now`, in order (no longer waited for). */
  takeDue(now: number): N[] {
    const due: N[] = [];
    for (let n = this.head; n !== undefined && n.at <= now; n = this.head) {
      n.live = false;
      this.unlink(n);
      due.push(n);
    }
    return due;
  }
}
