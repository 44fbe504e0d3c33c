import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import org.sqlite.SQLiteConfig;

/**
 * One customer's walk through the SQLite JDBC driver (xerial sqlite-jdbc),
 * with libconsent.so loaded by load_extension() on a connection that allows
 * it. Prints `step|value|...` lines for extension/tests/drivers/java.rs to
 * check.
 *
 * <p>java -cp sqlite-jdbc.jar:. Walk BILLING_DB PATH/libconsent
 */
public class Walk {
    public static void main(String[] args) throws SQLException {
        SQLiteConfig cfg = new SQLiteConfig();
        cfg.enableLoadExtension(true);
        cfg.setBusyTimeout(10000);
        String status = "SELECT consent_status(?1), consent_label(consent_status(?1))";
        try (Connection db = DriverManager.getConnection("jdbc:sqlite:" + args[0], cfg.toProperties())) {
            try (Statement load = db.createStatement()) {
                load.execute("SELECT load_extension('" + args[1].replace("'", "''") + "')");
            }
            row(db, "version", "SELECT sqlite_version()");
            row(db, "missing", status, 1);
            row(db, "queue", "SELECT consent_queue(?)", 1);
            row(db, "queued", status, 1);
            row(db, "approve", "SELECT consent_approve(?, ?)", 1, "phoned the office");
            row(db, "approved", status, 1);
            row(db, "revoke", "SELECT consent_revoke(?, ?)", 1, "customer wrote in");
            row(db, "denied", status, 1);
            try {
                row(db, "unexpected", "SELECT consent_queue(?)", 999);
            } catch (SQLException e) {
                System.out.println("unknown|" + e.getMessage());
            }
            row(db, "after",
                "SELECT consent_status(?1), (SELECT count(*) FROM consent_event WHERE customer_id = ?1)", 1);
        }
        System.out.println("closed|yes");
    }

    static void row(Connection db, String step, String sql, Object... params) throws SQLException {
        try (PreparedStatement stmt = db.prepareStatement(sql)) {
            for (int i = 0; i < params.length; i++) {
                stmt.setObject(i + 1, params[i]);
            }
            try (ResultSet rs = stmt.executeQuery()) {
                if (!rs.next()) {
                    throw new SQLException(step + ": no row");
                }
                StringBuilder line = new StringBuilder(step);
                for (int c = 1; c <= rs.getMetaData().getColumnCount(); c++) {
                    line.append('|').append(rs.getString(c));
                }
                System.out.println(line);
            }
        }
    }
}
