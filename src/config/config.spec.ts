import { ConfigError, loadConfig } from './config';

describe('loadConfig', () => {
  it('AUTH_DISABLED listens on 127.0.0.1 unless HOST is set explicitly', () => {
    expect(loadConfig({}).host).toBe('0.0.0.0');
    expect(loadConfig({ AUTH_DISABLED: 'true' }).host).toBe('127.0.0.1');
    expect(loadConfig({ AUTH_DISABLED: 'true', HOST: '0.0.0.0' }).host).toBe('0.0.0.0');
    expect(loadConfig({ HOST: '10.1.2.3' }).host).toBe('10.1.2.3');
  });

  it('TRUST_PROXY is off by default; true, hop counts and address lists pass; anything else stops the process naming it', () => {
    expect(loadConfig({}).trustProxy).toBe(false);
    expect(loadConfig({ TRUST_PROXY: 'true' }).trustProxy).toBe(true);
    expect(loadConfig({ TRUST_PROXY: '2' }).trustProxy).toBe(2);
    expect(loadConfig({ TRUST_PROXY: 'loopback, 10.0.0.0/8' }).trustProxy).toBe('loopback, 10.0.0.0/8');
    expect(() => loadConfig({ TRUST_PROXY: 'everyone!' })).toThrow(ConfigError);
    expect(() => loadConfig({ TRUST_PROXY: 'everyone!' })).toThrow(/TRUST_PROXY/);
  });
});
