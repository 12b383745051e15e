import { Configuration } from '../pages/Configuration';
import { start } from '../shell';

void start((context) => <Configuration {...context} />);
