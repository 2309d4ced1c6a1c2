import { hashPassword } from './auth.service.js';

/** `npm run hash-password -- <password>`: a `passwordHash` value for config/hub.yaml. */
const password = process.argv[2];
if (!password) {
  console.error('usage: npm run hash-password -- <password>');
  process.exit(2);
}
console.log(hashPassword(password));
