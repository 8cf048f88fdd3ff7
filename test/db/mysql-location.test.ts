import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { optionFilePassword, resolveMysql } from '../../src/db/index.js';
import { scratchDir } from '../helpers/db.js';

// mysql:// locations as the mysql client's users write them: the password from the URL, MYSQL_PWD or
// the [client] group of an option file (~/.my.cnf, or ?option-file=).

describe('MySQL locations', () => {
  let home: string;
  beforeAll(() => {
    home = scratchDir('mycnf');
  });
  afterAll(() => fs.rmSync(home, { recursive: true, force: true }));

  it('reads host, port, user, database and the password in order URL, MYSQL_PWD, option file', () => {
    fs.writeFileSync(path.join(home, '.my.cnf'), '[mysqld]\npassword=not-this\n[client]\nuser = x\npassword = "from file"\n', { mode: 0o600 });
    expect(resolveMysql('mysql://cradle_seed:p%40ss@his-db.example.org:3307/his', {}, home)).toMatchObject({ host: 'his-db.example.org', port: 3307, user: 'cradle_seed', database: 'his', password: 'p@ss', passwordSource: 'the URL' });
    expect(resolveMysql('mysql://cradle_seed@his-db/his', { MYSQL_PWD: 'env' }, home)).toMatchObject({ port: 3306, password: 'env', passwordSource: 'MYSQL_PWD' });
    const fromFile = resolveMysql('mariadb://cradle_seed@his-db/his', {}, home);
    expect(fromFile).toMatchObject({ password: 'from file', passwordSource: path.join(home, '.my.cnf'), warnings: [] });
    fs.chmodSync(path.join(home, '.my.cnf'), 0o644);
    expect(resolveMysql('mysql://u@h/his', {}, home).warnings).toEqual([`the option file ${path.join(home, '.my.cnf')} can be read by other users; chmod 600 it`]);
    expect(optionFilePassword('[client]\n# comment\npassword=a\n[cradle]\npassword=b\n')).toBe('b');
  });

  it('refuses what it cannot use, by name', () => {
    expect(() => resolveMysql('mysql://u@h/', {}, home)).toThrow(/names no database/);
    expect(() => resolveMysql('mysql://u@h/his?sslmode=require', {}, home)).toThrow(/unknown parameter sslmode=/);
    expect(() => resolveMysql('mysql://u@h/his?ssl-mode=maybe', {}, home)).toThrow(/ssl-mode=MAYBE is not one of DISABLED, PREFERRED, REQUIRED, VERIFY_CA, VERIFY_IDENTITY/);
    expect(() => resolveMysql('mysql://u@h/his?option-file=/nonexistent/my.cnf', {}, home)).toThrow(/option-file \/nonexistent\/my.cnf does not exist/);
  });
});
