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


const base = { DATABASE_URL: 'postgres://x/y', REDIS_URL: 'redis://x:1' };

describe('config: where jobs track their runs', () => {
  it('defaults PUBLIC_URL to the local API in `all` mode (loopback for a wildcard HOST)', () => {
    expect(loadConfig({ ...base, PORT: '4100' }).publicUrl).toBe('http://127.0.0.1:4100');
    expect(loadConfig({ ...base, HOST: '10.1.2.3' }).publicUrl).toBe('http://10.1.2.3:3000');
    expect(loadConfig({ ...base, HOST: '::' }).publicUrl).toBe('http://127.0.0.1:3000');
    expect(loadConfig({ ...base, HOST: '::1' }).publicUrl).toBe('http://[::1]:3000');
    expect(loadConfig({ ...base, PUBLIC_URL: 'https://alidade.lab.example/base/' }).publicUrl).toBe('https://alidade.lab.example/base');
  });

  it('refuses to start a worker that does not know where the API is, unless runs go to an external MLflow server', () => {
    expect(() => loadConfig(base, 'worker')).toThrow(ConfigError);
    expect(() => loadConfig(base, 'worker')).toThrow(/PUBLIC_URL: required for ALIDADE_ROLE=worker/);
    expect(loadConfig({ ...base, PUBLIC_URL: 'http://api:3000' }, 'worker').publicUrl).toBe('http://api:3000');
    const external = loadConfig({ ...base, MLFLOW_TRACKING_URI: 'http://mlflow:5000/' }, 'worker');
    expect(external.externalMlflow).toEqual({ uri: 'http://mlflow:5000', token: undefined, username: undefined, password: undefined });
    expect(external.publicUrl).toBeUndefined();
    // The API never needs it.
    expect(() => loadConfig(base, 'api')).not.toThrow();
  });

  it('takes a token or a username and password for the external server, and names what is wrong', () => {
    expect(loadConfig({ ...base, MLFLOW_TRACKING_URI: 'http://m:5000', MLFLOW_TRACKING_TOKEN: 't0k' }).externalMlflow?.token).toBe('t0k');
    expect(loadConfig({ ...base, MLFLOW_TRACKING_URI: 'http://m:5000', MLFLOW_TRACKING_USERNAME: 'u', MLFLOW_TRACKING_PASSWORD: 'p' }).externalMlflow).toMatchObject({ username: 'u', password: 'p' });
    expect(() => loadConfig({ ...base, MLFLOW_TRACKING_URI: 'http://m:5000', MLFLOW_TRACKING_USERNAME: 'u' })).toThrow(/set both or neither/);
    expect(() => loadConfig({ ...base, MLFLOW_TRACKING_URI: 'http://m:5000', MLFLOW_TRACKING_TOKEN: 't', MLFLOW_TRACKING_USERNAME: 'u', MLFLOW_TRACKING_PASSWORD: 'p' })).toThrow(/not both/);
    expect(() => loadConfig({ ...base, MLFLOW_TRACKING_TOKEN: 't' })).toThrow(/only with MLFLOW_TRACKING_URI/);
    expect(() => loadConfig({ ...base, MLFLOW_TRACKING_URI: 'file:///tmp/mlruns' })).toThrow(/MLFLOW_TRACKING_URI must be an http/);
    expect(() => loadConfig({ ...base, PUBLIC_URL: 'localhost:3000' })).toThrow(/PUBLIC_URL must be an http/);
  });
});
