import { describe, expect, it } from 'vitest';
import { ForbiddenError } from '../../pipeline/errors.js';
import { authorizeCommand, authorizeRead, authorizeWrite, moduleAuthority, type Principal } from './authority.js';

function principal(service: string, categories: string[], commands: string[] = []): Principal {
  return { service, categories: new Set(categories), commands: new Set(commands) };
}

const orders = principal('orders', ['order', 'cart']);
const admin = principal('admin', ['*']);

describe('authorizeWrite', () => {
  it('lets a service write its own categories, and * write any', () => {
    expect(() => authorizeWrite(orders, 'order')).not.toThrow();
    expect(() => authorizeWrite(orders, 'cart')).not.toThrow();
    expect(() => authorizeWrite(admin, 'order')).not.toThrow();
    expect(() => authorizeWrite(admin, 'anything_else')).not.toThrow();
  });

  it("refuses another service's category with ForbiddenError naming both", () => {
    let error: unknown;
    try {
      authorizeWrite(orders, 'invoice_2024');
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ForbiddenError);
    expect((error as ForbiddenError).context).toEqual({ service: 'orders', category: 'invoice_2024' });
    expect(() => authorizeWrite(orders, 'orders')).toThrow(ForbiddenError);
  });
});

describe('authorizeCommand', () => {
  it('a key may send commands to categories it does not own, and still not append to them', () => {
    const transfers = principal('transfers', ['transfer'], ['account']);
    expect(() => authorizeCommand(transfers, 'account')).not.toThrow();
    expect(() => authorizeCommand(transfers, 'transfer')).not.toThrow();
    expect(() => authorizeWrite(transfers, 'account')).toThrow(ForbiddenError);
    expect(() => authorizeCommand(transfers, 'invoice')).toThrow(
      "service 'transfers' may not send commands to category 'invoice'",
    );
  });

  it('* under commands allows commands to any category', () => {
    expect(() => authorizeCommand(principal('ops', ['ops'], ['*']), 'account')).not.toThrow();
  });
});

describe('moduleAuthority', () => {
  it('a module writes its own category and nothing else, and sends no commands', () => {
    const accounts = moduleAuthority('bank', 'account');
    expect(() => authorizeWrite(accounts, 'account')).not.toThrow();
    expect(() => authorizeWrite(accounts, 'transfer')).toThrow("service 'bank' may not write category 'transfer'");
    expect(() => authorizeCommand(accounts, 'transfer')).toThrow(ForbiddenError);
  });
});

describe('authorizeRead', () => {
  it('a service reads what it owns, what it sends commands to, and what its key lists under reads', () => {
    const transfers = principal('transfers', ['transfer'], ['account']);
    expect(() => authorizeRead(transfers, 'transfer')).not.toThrow();
    expect(() => authorizeRead(transfers, 'account')).not.toThrow();
    expect(() => authorizeRead(transfers, 'invoice')).toThrow("service 'transfers' may not read category 'invoice'");
    const reports: Principal = {
      service: 'reports',
      categories: new Set(),
      commands: new Set(),
      reads: new Set(['invoice']),
    };
    expect(() => authorizeRead(reports, 'invoice')).not.toThrow();
    expect(() => authorizeWrite(reports, 'invoice')).toThrow(ForbiddenError);
    expect(() => authorizeRead(reports, 'account')).toThrow(ForbiddenError);
  });

  it('* anywhere reads every category', () => {
    expect(() => authorizeRead(principal('admin', ['*']), 'account')).not.toThrow();
    const all: Principal = { service: 'audit', categories: new Set(), commands: new Set(), reads: new Set(['*']) };
    expect(() => authorizeRead(all, 'account')).not.toThrow();
  });
});
