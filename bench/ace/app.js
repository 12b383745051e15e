// The baseline Connect app for bench/run.sh: atlassian-connect-express as its README sets it up, in production
// mode, with its Sequelize store on the same PostgreSQL server as ConnectApp. One route behind ACE's context-token
// check (what an iframe's AP.context.getToken() call meets), reading no data of its own. ACE looks the tenant up
// in its store on every request, as it does in production.
const express = require("express");
const ace = require("atlassian-connect-express");

const app = express();
app.set("env", "production");
app.use(express.json());
const addon = ace(app);
app.use(addon.middleware());

app.get("/jwt", addon.checkValidToken(), (req, res) => {
  res.json({ clientKey: req.context.clientKey, accountId: req.context.userAccountId });
});

const port = addon.config.port();
app.listen(port, "127.0.0.1", () => console.log(`ACE bench app on 127.0.0.1:${port}`));
