import { Directory } from '../pages/Directory';
import { start } from '../shell';

void start((context) => <Directory {...context} />);
