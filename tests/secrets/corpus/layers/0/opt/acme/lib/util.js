function tokenize(s){return s.split(/\s+/)}
const passwordField = document.querySelector('#password');
const apiKeyHeader = 'X-Api-Key';
let token = getToken();
export const SECRET_NAME = 'db-credentials';
