// Starts the telegram-test-api emulator for the Python tests (tests/integration/telegram_emulator.py).
// Usage: node serve.js PORT STORE_TIMEOUT_S
const TelegramServer = require('telegram-test-api');

// A webhook push the bot refuses rejects a promise nobody awaits; Node would exit on it.
process.on('unhandledRejection', (error) => {
  console.error(`unhandled rejection: ${error}`);
});

const port = Number(process.argv[2]);
const storeTimeout = Number(process.argv[3] || 600);
const server = new TelegramServer({ port, host: '127.0.0.1', storeTimeout });
server.start().then(
  () => console.log(`telegram-test-api listening on 127.0.0.1:${port}`),
  (error) => {
    console.error(`telegram-test-api could not start: ${error}`);
    process.exit(1);
  },
);
