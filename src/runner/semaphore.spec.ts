import { Semaphore } from './semaphore';

describe('Semaphore', () => {
  it('lets `size` holders in and hands slots over in arrival order', async () => {
    const s = new Semaphore(2);
    const order: number[] = [];
    await s.acquire();
    await s.acquire();
    const third = s.acquire().then(() => order.push(3));
    const fourth = s.acquire().then(() => order.push(4));
    await Promise.resolve();
    expect(order).toEqual([]);
    s.release();
    await third;
    expect(order).toEqual([3]);
    expect(s.running).toBe(2);
    s.release();
    await fourth;
    s.release();
    s.release();
    expect(s.running).toBe(0);
  });
});
